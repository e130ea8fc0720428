// A deploy run that takes the deploy lock and holds it until it is killed:
// the holder a test kills (SIGKILL, like a crashed controller) or keeps alive.
//   tsx test/helpers/hold-deploy-lock.ts local DIR RUNS      the lock in DIR, this controller's runs in RUNS
//   tsx test/helpers/hold-deploy-lock.ts lab INVENTORY HOST   the lab's lock on HOST, in the default places
// Prints "held" once it holds the lock.
import { LocalTransport } from '../../lib/transport/local.ts';
import { takeDeployLock, type LockPlace } from '../../lib/ops/docker/rollout/deploy-lock.ts';
import { nodeTransport } from './node.ts';
import { remoteOf } from './remote.ts';

const [kind, a, b] = process.argv.slice(2);
const transport = kind === 'lab' ? await nodeTransport(a!, b!) : new LocalTransport('localhost');
const place: LockPlace = kind === 'lab' ? {} : { dir: a!, runs: b! };
await takeDeployLock(remoteOf(transport), { user: 'holder', action: 'hold the lock' }, place);
console.log('held');
// Held until killed; the heartbeat keeps the lock fresh meanwhile.
setInterval(() => undefined, 1 << 30);
