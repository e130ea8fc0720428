// Node maintenance: drain a swarm node (its tasks move to other nodes, and
// the run waits until they run there), then bring it back with --undo.
//   npx tsx playbooks/drain.ts NODE [--undo] [--check]
import { definePlay, InputError, ops, runPlaybook } from 'rigger-ops';
import { onFirstManager } from '../roles/common.ts';

const usage = 'Usage: npx tsx playbooks/drain.ts NODE [--undo] [flags]';

await runPlaybook(
  (opts) => {
    const [node, ...extra] = opts.positionals;
    if (!node || extra.length) throw new InputError('command line', 'name one swarm node (its host name)');
    const availability = opts.flags.undo ? 'active' : 'drain';
    return [
      definePlay({
        name: opts.flags.undo ? `undrain ${node}` : `drain ${node}`,
        hosts: 'managers',
        tasks: ({ task }) => [task({ name: `node ${node} ${availability}`, ...onFirstManager('nodes are managed'), op: () => ops.docker.swarm.nodeAvailability({ node, availability }) })],
      }),
    ];
  },
  { usage, allowPositionals: true, flags: { undo: { type: 'boolean' } } },
);
