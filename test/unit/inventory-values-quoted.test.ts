// Issue 27 item 12: inventory values that reach a shell, each sent through
// its real code path and run by dash (this machine's sh) and by bash (as sh,
// through a PATH entry): nothing injected runs (the canary file is never
// made) and the value arrives intact, or the value is refused with an error
// naming where it was written. Only `docker` is a stub (it would touch the
// Docker engine); it records the arguments it was given, answers `info` and
// `ps` (with no container) and fails anything else (no such volume).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { definePlay, InputError, ops } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import { monitoring } from '../../roles/monitoring/index.ts';
import * as backupOps from '../../lib/backup/ops/index.ts';
import * as recoveryOps from '../../lib/recovery/ops/index.ts';
import { runCli } from '../helpers/cli.ts';
import { runPlays, scratchDir } from '../helpers/run.ts';

/** A fresh canary path per value: a command that escaped its quotes would create it. */
const canary = () => path.join(scratchDir(), `PWNED-${randomBytes(6).toString('hex')}`);

/** The ways a value breaks out of naive quoting, each trying to make the canary. */
const hostileNames = (c: string) => [`x;touch ${c};`, `x'`, `'$(touch ${c})'`, `$(touch ${c})`, `\`touch ${c}\``, `x\ntouch ${c}\n`, `x" ; touch ${c} ; "`];

interface Shell {
  name: string;
  /** PATH for a run: a directory with the stub docker, and for bash an `sh` that is bash. */
  path: string;
  /** The file the stub docker appends its arguments to (NUL-separated, one call per line). */
  dockerLog: string;
}

function shells(): Shell[] {
  return ['dash', 'bash'].map((name) => {
    const bin = scratchDir();
    const dockerLog = path.join(bin, 'docker.log');
    writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\nfor a; do printf '%s\\0' "$a"; done >> '${dockerLog}'\necho >> '${dockerLog}'\ncase $1 in info|ps) exit 0;; *) exit 1;; esac\n`);
    chmodSync(path.join(bin, 'docker'), 0o755);
    if (name === 'bash') symlinkSync('/bin/bash', path.join(bin, 'sh'));
    return { name, path: `${bin}:${process.env.PATH}`, dockerLog };
  });
}

/** The stub docker's calls, each as its argument list. */
const dockerCalls = (s: Shell): string[][] =>
  existsSync(s.dockerLog) ? readFileSync(s.dockerLog, 'utf8').split('\0\n').filter(Boolean).map((l) => l.split('\0')) : [];

/** An inventory of one local host in group managers, with these variables for all. */
function inventory(vars: Record<string, string>): string {
  const file = path.join(scratchDir(), 'hosts.yml');
  // JSON strings are YAML double-quoted scalars: every byte arrives as written.
  const lines = Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`);
  writeFileSync(file, `all:\n  vars:\n    ansible_connection: local\n${lines.join('')}  children:\n    managers:\n      hosts:\n        m1:\n`);
  return file;
}

/** Runs fn with this process's PATH set to the shell's (the local transport spawns `sh` from PATH). */
async function withPath<T>(s: Shell, fn: () => Promise<T>): Promise<T> {
  const was = process.env.PATH;
  process.env.PATH = s.path;
  try {
    return await fn();
  } finally {
    process.env.PATH = was;
  }
}

test('item 12: monitoring_stack_name with shell syntax is refused, naming the inventory line that set it', async () => {
  for (const name of hostileNames(canary())) {
    const inv = inventory({ monitoring_enabled: 'x', monitoring_stack_name: name });
    // monitoring_enabled is written as a string above only to keep the helper simple; set the real boolean here.
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('monitoring_enabled: "x"', 'monitoring_enabled: true'));
    const play = definePlay({ name: 'monitoring', hosts: 'managers', roles: [monitoring] });
    await assert.rejects(
      runPlays(inv, [play], { check: true }),
      (e: unknown) => e instanceof InputError && e.message.includes(`${inv}:5:`) && /monitoring_stack_name/.test(e.message),
      JSON.stringify(name),
    );
  }
});

test('item 12: the reload handler puts monitoring_stack_name into docker\'s filter as one word, nothing injected runs', async () => {
  // Handlers read the host's variables untyped, so the value is sent without the role's schema in front of it.
  for (const s of shells()) {
    const c = canary();
    const names = hostileNames(c);
    for (const name of names) {
      const inv = inventory({ monitoring_stack_name: name });
      const dir = scratchDir();
      const reloads = monitoring.handlers;
      const play = definePlay({
        name: 'reload',
        hosts: 'all',
        handlers: reloads,
        tasks: ({ task }) => [task({ name: 'a change', op: ops.copy({ path: `${dir}/changed`, content: 'x' }), notify: reloads })],
      });
      const o = await withPath(s, () => runPlays(inv, [play]));
      assert.equal(o.summary.exitCode, 0, `${s.name} ${JSON.stringify(name)}: ${JSON.stringify(o.events.filter((e) => e.type === 'task-host'))}`);
    }
    assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
    const filters = dockerCalls(s).map((args) => args[args.indexOf('--filter') + 1]);
    const want = names.flatMap((n) => [`label=com.docker.swarm.service.name=${n}_prometheus`, `label=com.docker.swarm.service.name=${n}_alertmanager`]);
    assert.deepEqual(filters, want, `${s.name}: docker got each name intact`);
  }
});

test('item 12: playbooks/alerts.ts sends monitoring_alertmanager_url to curl as one word, nothing injected runs', async () => {
  for (const s of shells()) {
    const c = canary();
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(req.method === 'POST' ? '{"silenceID":"s1"}' : '[]');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      // z.url() accepts all of these (no space: curl refuses a URL with one): the quote, the separator and $( ) reach the script.
      const prefixes = [`/a'b`, `/x';touch$IFS${c};'`, `/'$(touch$IFS${c})'`, `/$(touch$IFS${c})`, `/\`touch$IFS${c}\``];
      for (const prefix of prefixes) {
        const inv = inventory({ monitoring_alertmanager_url: `http://127.0.0.1:${port}${prefix}` });
        const r = await runCli(['playbooks/alerts.ts', '-i', inv, '--silence', 'Probe', '--for', '1h'], { PATH: s.path });
        assert.equal(r.code, 0, `${s.name} ${prefix}: ${r.stdout}${r.stderr}`);
        assert.deepEqual(seen.splice(0), [`POST ${prefix}/api/v2/silences`, `GET ${prefix}/api/v2/alerts?active=true&silenced=false&inhibited=false`], `${s.name}: the URL arrived intact`);
      }
      assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
    } finally {
      server.close();
    }
  }
});

/** One item of each kind with `value` in a field that reaches the backup's scripts. */
const hostileItems = (value: string) => [
  { field: 'vars.backup_items.0.volume', item: { kind: 'volume' as const, volume: value } },
  { field: 'vars.backup_items.0.service', item: { kind: 'postgres' as const, service: value, database: 'db' } },
  { field: 'vars.backup_items.0.database', item: { kind: 'postgres' as const, service: 'db', database: value } },
  { field: 'vars.backup_items.0.tempdir', item: { kind: 'gitea' as const, service: 'gitea', tempdir: `/tmp/${value}` } },
  { field: 'vars.backup_items.0.paths.0', item: { kind: 'config' as const, name: 'etc', paths: [`/etc/${value}`] } },
];

test('item 12: backup.set checks its own parameters: item fields with shell syntax are refused naming the parameter, nothing runs', async () => {
  for (const s of shells()) {
    const c = canary();
    for (const value of hostileNames(c)) {
      for (const { field, item } of hostileItems(value)) {
        const play = definePlay({ name: 'backup', hosts: 'all', tasks: ({ task }) => [task({ name: 'set', op: backupOps.takeSet({ vars: { backup_root: scratchDir(), backup_items: [item] } }) })] });
        await assert.rejects(
          withPath(s, () => runPlays(inventory({}), [play])),
          (e: unknown) => e instanceof InputError && e.message.includes(`invalid parameter ${field} of backup.set`),
          `${s.name} ${field} ${JSON.stringify(value)}`,
        );
      }
    }
    assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
    assert.deepEqual(dockerCalls(s), [], `${s.name}: refused before the host was asked anything`);
  }
});

test('item 12: backup.set\'s readiness probe gives the item fields to the shell quoted and intact', async () => {
  for (const s of shells()) {
    const root = scratchDir();
    // A backup root rigger has used before (issue 27 item 2): the probe then looks at the items alone.
    writeFileSync(path.join(root, '.rigger-backup-root'), '');
    const present = path.join(scratchDir(), 'a@b+c.d');
    writeFileSync(present, 'x');
    const missing = path.join(root, 'gone_-.x');
    const vars = {
      backup_root: root,
      backup_items: [
        { kind: 'config' as const, name: 'etc', paths: [present, missing] },
        { kind: 'volume' as const, volume: 'v.1_x-y' },
        { kind: 'postgres' as const, service: 'svc.a', database: 'db' },
      ],
    };
    const play = definePlay({ name: 'backup', hosts: 'all', tasks: ({ task }) => [task({ name: 'set', op: backupOps.takeSet({ vars }) })] });
    const o = await withPath(s, () => runPlays(inventory({}), [play], { check: true }));
    const result = o.events.find((e) => e.type === 'task-host' && e.task === 'set');
    assert.ok(result?.type === 'task-host' && result.status === 'failed', `${s.name}: ${JSON.stringify(result)}`);
    // The stub engine answers `docker info` and knows no volume or container: each item's own problem, named exactly.
    assert.equal(
      result.msg,
      [`config-etc: ${missing} does not exist`, 'volume-v.1_x-y: no volume v.1_x-y on this host', 'postgres-svc.a-db: no running container of service svc.a on this host'].join('; '),
      s.name,
    );
    const calls = dockerCalls(s);
    assert.ok(calls.some((a) => a.join(' ') === 'volume inspect v.1_x-y'), `${s.name}: ${JSON.stringify(calls)}`);
    assert.ok(calls.some((a) => a.includes('label=com.docker.swarm.service.name=svc.a')), `${s.name}: ${JSON.stringify(calls)}`);
  }
});

/** A stand-in `docker` for the health probe: service web has one task on node1, whose address is this machine's loopback. */
function healthDocker(s: Shell): void {
  const bin = s.path.split(':')[0]!;
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh\ncase "$1 $2" in\n  'service ls') echo 'web 1/1' ;;\n  'service ps') echo node1 ;;\n  'node inspect') echo 127.0.0.1 ;;\n  *) exit 1 ;;\nesac\n`,
  );
}

test('item 12 (also found): docker.health puts a check\'s path into curl\'s URL intact, nothing injected runs', async () => {
  for (const s of shells()) {
    healthDocker(s);
    const c = canary();
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      // health_checks come from the inventory; a path only has to start with /. No space: curl refuses one.
      const paths = [`/$(touch$IFS${c})`, `/a'b`, `/x";touch$IFS${c};"`, `/\`touch$IFS${c}\``, `/$HOME`];
      for (const p of paths) {
        const play = definePlay({ name: 'health', hosts: 'all', tasks: ({ task }) => [task({ name: 'health', op: ops.docker.serviceHealth({ checks: [{ service: 'web', port, path: p }] }) })] });
        const o = await withPath(s, () => runPlays(inventory({}), [play]));
        const row = o.events.find((e) => e.type === 'task-host' && e.task === 'health');
        assert.ok(row?.type === 'task-host' && row.status === 'ok', `${s.name} ${p}: ${JSON.stringify(row)}`);
        assert.equal(row.msg, '1/1 services healthy', `${s.name} ${p}`);
        assert.deepEqual(seen.splice(0), [p], `${s.name}: the path arrived intact`);
      }
      assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
    } finally {
      server.close();
    }
  }
});

test('item 12 (also found): docker.deploy\'s probe echoes an image reference intact, nothing injected runs', async () => {
  for (const s of shells()) {
    const bin = s.path.split(':')[0]!;
    // The registry's answer for any reference: a manifest (the branch that echoes the reference with it).
    writeFileSync(path.join(bin, 'docker'), `#!/bin/sh\ncase "$1 $2" in\n  'manifest inspect') echo '{"schemaVersion":2}' ;;\n  *) exit 1 ;;\nesac\n`);
    const c = canary();
    const refs = [`x$(touch ${c})`, `x"$(touch ${c})"`, `x\`touch ${c}\``, `x'y`, 'x$HOME'];
    for (const ref of refs) {
      const op = ops.docker.deploy({ services: [{ name: 'web', image: ref }] });
      assert.deepEqual(op.problems, []);
      const r = spawnSync(s.name, ['-c', op.probe!.command.bytes.toString('utf8')], { env: { ...process.env, PATH: s.path } });
      const line = r.stdout.toString('utf8').split('\n').find((l) => l.startsWith('@@manifest '));
      assert.equal(line, `@@manifest ${ref} {"schemaVersion":2}`, `${s.name}: ${r.stderr}`);
    }
    assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
  }
});

test('item 12 (also found): a drain that times out names the node as given, nothing injected runs', async () => {
  for (const s of shells()) {
    const bin = s.path.split(':')[0]!;
    // A node that never empties: `node ps` always lists one task of service web.
    writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\ncase "$1 $2" in\n  'node inspect') echo active ;;\n  'node ps') case "$*" in *-q*) echo t1 ;; *) echo web.1 ;; esac ;;\n  'node update') exit 0 ;;\n  *) exit 1 ;;\nesac\n`,
    );
    const c = canary();
    for (const node of [`$(touch ${c})`, `n'1`, `n" ; touch ${c} ; "`, `\`touch ${c}\``]) {
      const play = definePlay({ name: 'drain', hosts: 'all', tasks: ({ task }) => [task({ name: 'drain', op: ops.docker.swarm.nodeAvailability({ node, availability: 'drain', timeoutSeconds: 1 }) })] });
      const o = await withPath(s, () => runPlays(inventory({}), [play]));
      const row = o.events.find((e) => e.type === 'task-host' && e.task === 'drain');
      assert.ok(row?.type === 'task-host' && row.status === 'failed', `${s.name}: ${JSON.stringify(row)}`);
      assert.ok(row.msg?.includes(`tasks still on ${node}:`), `${s.name}: the node's name as given: ${row.msg}`);
    }
    assert.equal(existsSync(c), false, `${s.name}: an injected command ran`);
  }
});

test('item 12: recovery.verify and docker.swarm.join check their parameters with real schemas, naming the bad field', async () => {
  // A manifest whose item file would be pasted into the verify script, and join tokens that are plain text (they must be Secrets).
  const manifest = { format: 1, set: '20260101_020000', created: 'x', host: 'h', bytes: 1, items: [{ name: 'v', kind: 'volume', file: `x;touch /tmp/x;`, bytes: 1, sha256: 'a'.repeat(64), check: 'tar' }] };
  const cases = [
    { field: 'manifest.items.0.file', of: 'recovery.verify', op: (): Op<unknown> => recoveryOps.verifyForRecovery({ dir: '/srv/backup/20260101_020000', manifest: manifest as never }) },
    { field: 'join.worker', of: 'docker.swarm.join', op: (): Op<unknown> => ops.docker.swarm.join({ role: 'worker', advertiseAddr: '10.0.0.2', join: { worker: 'SWMTKN-plain', manager: 'SWMTKN-plain', managerAddr: '10.0.0.1:2377', clusterId: 'c' } as never }) },
  ];
  for (const c of cases) {
    const play = definePlay({ name: 'p', hosts: 'all', tasks: ({ task }) => [task({ name: 'op', op: c.op() })] });
    await assert.rejects(runPlays(inventory({}), [play], { check: true }), (e: unknown) => e instanceof InputError && e.message.includes(`invalid parameter ${c.field} of ${c.of}`), c.of);
  }
});
