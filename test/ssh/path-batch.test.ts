// Joined path reads over a real sshd: a batch of mixed path kinds gives the
// states the probes' own commands give, in fewer remote processes. Commands
// run as nobody (setpriv), so a root-only file is unreadable as on a real
// host, under strace, which counts the programs each exec starts.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sh, type Command } from '../../lib/shell/command.ts';
import { EventBus } from '../../lib/model/events.ts';
import { HostSession, type ProbeItem } from '../../lib/runner/host-session.ts';
import { batchScript, splitBatch } from '../../lib/runner/probe-batch.ts';
import { DIFF_LIMIT, parsePathState, pathStateProbe } from '../../lib/ops/files/path-state.ts';
import { copyTargetProbe } from '../../lib/ops/files/copy-target.ts';
import type { SshTransport } from '../../lib/transport/ssh.ts';
import type { Transport } from '../../lib/transport/types.ts';
import { startSshd, transportTo, type TestSshd } from '../helpers/sshd.ts';
import { EXECVE_TRACE, programsStarted as startedIn } from '../helpers/strace.ts';

let sshd: TestSshd;
let ssh: SshTransport;
let traces: string;
before(async () => {
  sshd = await startSshd();
  ssh = transportTo(sshd);
  traces = mkdtempSync('/tmp/rigger-trace-');
});
after(async () => {
  await ssh.close();
  await sshd.stop();
  rmSync(traces, { recursive: true, force: true });
});

let execs = 0;
/** Every command as nobody under strace: one trace file per exec. */
const traced: Transport = {
  host: 'h',
  exec: (c: Command, options) =>
    ssh.exec(sh`strace ${EXECVE_TRACE} -o ${path.join(traces, `t${execs++}`)} setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ${c.bytes}`.withStdin(...c.stdin), options),
  close: async () => {},
};

/** Programs the traced commands started on the host (setpriv and its sh not counted), since the last call. */
function programsStarted(): number {
  let n = 0;
  for (const f of readdirSync(traces)) {
    n += startedIn(readFileSync(path.join(traces, f), 'utf8')).length - 2;
    rmSync(path.join(traces, f));
  }
  return n;
}

function tree(): string {
  const dir = mkdtempSync('/tmp/rigger-paths-');
  chmodSync(dir, 0o755);
  mkdirSync(`${dir}/d`);
  writeFileSync(`${dir}/f`, 'hello\n');
  writeFileSync(`${dir}/empty`, '');
  writeFileSync(`${dir}/at-limit`, Buffer.alloc(DIFF_LIMIT, 'a'));
  writeFileSync(`${dir}/over-limit`, Buffer.alloc(DIFF_LIMIT + 1, 'b'));
  writeFileSync(`${dir}/a name with spaces, 'quotes' and\na newline`, 'odd\n');
  writeFileSync(`${dir}/secret`, 'root only\n', { mode: 0o600 });
  symlinkSync(`${dir}/f`, `${dir}/link`);
  symlinkSync(`${dir}/nowhere`, `${dir}/dangling`);
  return dir;
}

const items = (probes: { command: Command; read?: ProbeItem['read'] }[]): ProbeItem[] => probes.map((p, i) => ({ key: `t${i}`, command: p.command, read: p.read }));

test('a joined batch of mixed paths reads the states the probes read on their own, an unreadable file included', async () => {
  const dir = tree();
  const probes = [
    ...['absent', 'f', 'empty', 'd', 'link', 'dangling', 'at-limit', 'over-limit', `a name with spaces, 'quotes' and\na newline`, 'secret'].map((n) => pathStateProbe(`${dir}/${n}`, true)),
    pathStateProbe(`${dir}/f`, false),
    pathStateProbe(`${dir}/at-limit`, DIFF_LIMIT - 1),
    copyTargetProbe({ path: `${dir}/d/`, src: 'files/f', remoteSrc: false, follow: false }, undefined),
    copyTargetProbe({ path: `${dir}/link`, remoteSrc: false, follow: true }, undefined),
  ];
  const own = await Promise.all(probes.map((p) => traced.exec(p.command)));
  const session = new HostSession('h', traced, new EventBus(), 0);
  const joined = await session.probeBatch(items(probes), 't0', undefined);
  probes.forEach((p, i) => {
    const got = joined.get(`t${i}`)!;
    assert.equal(got.stdout.toString('latin1'), own[i]!.stdout.toString('latin1'), `stdout of probe ${i}`);
    assert.equal(got.stderr.toString('latin1'), own[i]!.stderr.toString('latin1'), `stderr of probe ${i}`);
    assert.equal(got.code, own[i]!.code, `exit of probe ${i}`);
  });
  assert.match(own[9]!.stderr.toString(), /Permission denied/, 'nobody cannot read the root-only file');
  assert.equal(session.roundTrips, 2, 'the unreadable file made the joined read fall back to the probes\' own commands, once');
  assert.equal(parsePathState(joined.get('t6')!).content?.length, DIFF_LIMIT, 'a file of exactly the diff limit is read back');
  assert.equal(parsePathState(joined.get('t7')!).content, undefined, 'one byte more is not');
  rmSync(dir, { recursive: true });
});

test('joined, 20 path probes cost one round trip and a handful of remote programs instead of 2-3 per path', async () => {
  const dir = tree();
  rmSync(`${dir}/secret`);
  const names = ['absent', 'f', 'empty', 'd', 'link', 'dangling', 'at-limit', 'over-limit', `a name with spaces, 'quotes' and\na newline`];
  const probes = Array.from({ length: 20 }, (_, i) => pathStateProbe(`${dir}/${names[i % names.length]}`, i % 3 === 0 ? false : true));
  programsStarted();
  // Before: one exec for all the probes, each with its own stat and sha256sum (and base64).
  const { command, marker } = batchScript(probes.map((p) => p.command));
  const separate = splitBatch(await traced.exec(command), marker, probes.length);
  const before = programsStarted();
  const session = new HostSession('h', traced, new EventBus(), 0);
  const joined = await session.probeBatch(items(probes), 't0', undefined);
  const afterCount = programsStarted();
  probes.forEach((_, i) => assert.deepEqual(joined.get(`t${i}`)!.stdout, separate[i]!.stdout, `probe ${i}`));
  assert.equal(session.roundTrips, 1);
  assert.ok(before >= 30, `the probes on their own started ${before} programs`);
  assert.ok(afterCount <= 5, `joined, they started ${afterCount} (stat, sha256sum, readlink, cat, base64)`);
  rmSync(dir, { recursive: true });
});
