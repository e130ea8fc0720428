// --resume against four real sshd hosts (issue 32, acceptance 5): the 12th
// task fails on one host through a planted bad state; after the state is
// fixed, --resume runs only that host, from task 12, with the earlier
// tasks' registered results and its pending handler; the other three
// hosts' sshd never sees a connection. A changed inventory or playbook is
// refused with exit 4, naming what changed, before any host is contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sshInventory, startSshd, type TestSshd } from '../helpers/sshd.ts';

const TSX = path.resolve('node_modules/.bin/tsx');
const LIB = path.resolve('lib/index.ts');

/**
 * Fourteen tasks; each but the config logs its number to the host's log.
 * Task 12 writes etc/app.conf holding the token task 1 registered: it fails
 * where app.conf is a directory. Task 5 notifies a handler.
 */
const PLAYBOOK = `import { definePlay, handler, ops, runPlaybook, type HostContext } from ${JSON.stringify(LIB)};

const dir = (h: HostContext<any>) => String(h.allVars.work_dir);
const reload = handler({ name: 'reload app', op: (h) => ops.shell({ script: 'echo handler >> ' + dir(h) + '/log' }) });

await runPlaybook([
  definePlay({
    name: 'resume',
    hosts: 'all',
    handlers: [reload],
    tasks: ({ task }) => {
      const step = (n: number) => task({ name: 'step ' + n, op: (h) => ops.shell({ script: 'mkdir -p ' + dir(h) + '/etc; echo task ' + n + ' >> ' + dir(h) + '/log' }), ...(n === 5 ? { notify: [reload] } : {}) });
      const token = task({
        name: 'read token',
        op: (h) => ops.shell({ script: 'echo task 1 >> ' + dir(h) + '/log; head -c8 /dev/urandom | od -An -tx1 | tr -d " \\\\n" | tee ' + dir(h) + '/token' }),
      });
      return [
        token,
        ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(step),
        task({ name: 'write app config', op: (h) => ops.copy({ path: dir(h) + '/etc/app.conf', content: 'token=' + String(h.result(token)?.stdout) + '\\n' }) }),
        step(13),
        step(14),
      ];
    },
  }),
]);
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  events: Record<string, any>[];
}

/** The playbook run as a user runs it, from the project directory (where .rigger/runs/ is written). */
function run(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['playbook.ts', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      const events = stdout.split('\n').flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, any>];
        } catch {
          return [];
        }
      });
      resolve({ code, stdout, stderr, events });
    });
  });
}

/** Connections each sshd has accepted so far, from its own log: the proof of who was contacted. */
function connections(sshd: TestSshd): number {
  return sshd.log().split('\n').filter((l) => l.includes('Connection from ')).length;
}

test('--resume runs only the failed host from task 12, with task 1\'s result and the pending handler; the other hosts are not contacted; a changed inventory or playbook is refused', async () => {
  const hosts = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'].map((address) => startSshd({ address })));
  const project = mkdtempSync(path.join(tmpdir(), 'rigger-resume-'));
  try {
    writeFileSync(path.join(project, 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(project, 'playbook.ts'), PLAYBOOK);
    const work = hosts.map((_, i) => path.join(project, `node${i + 1}`));
    for (const w of work) mkdirSync(w);
    const inventory = sshInventory(hosts.map((sshd, i) => ({ name: `node${i + 1}`, sshd, vars: [`work_dir: ${work[i]}`] })));
    // The planted bad state: on node3, a directory stands where the config file goes.
    mkdirSync(path.join(work[2]!, 'etc', 'app.conf'), { recursive: true });

    const first = await run(project, ['-i', inventory, '--json']);
    assert.equal(first.code, 2, first.stderr);
    const failed = first.events.filter((e) => e.type === 'task-host' && e.status === 'failed');
    assert.deepEqual(failed.map((e) => [e.host, e.task]), [['node3', 'write app config']]);
    const recorded = first.events.at(-1)!.record;
    assert.deepEqual(recorded.unfinished, ['node3']);
    const log3 = () => readFileSync(path.join(work[2]!, 'log'), 'utf8').trim().split('\n');
    assert.deepEqual(log3(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => `task ${n}`), 'node3 stopped at task 12, its handler not run');
    for (const i of [0, 1, 3]) assert.ok(readFileSync(path.join(work[i]!, 'log'), 'utf8').endsWith('task 14\nhandler\n'), `node${i + 1} finished`);
    const token3 = readFileSync(path.join(work[2]!, 'token'), 'utf8');
    const before = hosts.map(connections);

    // The state is fixed by hand; --resume takes the last run of this playbook and inventory.
    rmSync(path.join(work[2]!, 'etc', 'app.conf'), { recursive: true });
    const resumed = await run(project, ['-i', inventory, '--resume', '--json', '--report', 'report.html']);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const start = resumed.events.find((e) => e.type === 'resume')!;
    assert.equal(start.from, recorded.id);
    assert.deepEqual(
      start.hosts.map((h: any) => [h.host, h.task.ordinal + 1, h.task.name, h.pendingHandlers]),
      [['node3', 12, 'write app config', ['reload app']]],
    );
    const ran = resumed.events.filter((e) => e.type === 'task-host');
    assert.deepEqual([...new Set(ran.map((e) => e.host))], ['node3'], 'only node3 runs');
    assert.deepEqual(ran.map((e) => e.task), ['write app config', 'step 13', 'step 14', 'reload app'], 'from task 12 on, then the pending handler');
    assert.equal(readFileSync(path.join(work[2]!, 'etc', 'app.conf'), 'utf8'), `token=${token3}\n`, 'task 1\'s registered result of the first run, restored');
    assert.deepEqual(log3().slice(11), ['task 13', 'task 14', 'handler'], 'nothing before task 12 ran again');
    const recap = resumed.events.at(-1)!;
    assert.equal(recap.type, 'recap');
    assert.deepEqual(Object.keys(recap.hosts), ['node3'], 'the recap covers the resumed host');
    assert.equal(recap.hosts.node3.changed, 4);
    const after = hosts.map(connections);
    for (const i of [0, 1, 3]) assert.equal(after[i], before[i], `node${i + 1}'s sshd saw no connection`);
    assert.ok(after[2]! > before[2]!, 'node3 was connected to');
    const page = readFileSync(path.join(project, 'report.html'), 'utf8');
    assert.match(page, /<h2>Resume<\/h2>.*resumed run <b>[^<]+<\/b>.*node3 from task 12 &quot;write app config&quot;/s, 'the report shows the resumed position');

    // The first run's record still names node3 unfinished; a changed inventory refuses it.
    const contacted = hosts.map(connections);
    const original = readFileSync(inventory, 'utf8');
    appendFileSync(inventory, '      app_port: 8080\n');
    const changedInventory = await run(project, ['-i', inventory, '--resume', recorded.id]);
    assert.equal(changedInventory.code, 4);
    assert.match(changedInventory.stderr, /the inventory \([^)]*hosts\.yml[^)]*\).*the variables \(app_port\) changed since run /);
    writeFileSync(inventory, original);
    appendFileSync(path.join(project, 'playbook.ts'), '// edited\n');
    const changedPlaybook = await run(project, ['-i', inventory, '--resume', recorded.id]);
    assert.equal(changedPlaybook.code, 4);
    assert.match(changedPlaybook.stderr, /the playbook \(playbook\.ts\) changed since run .*--resume-anyway/);
    assert.deepEqual(hosts.map(connections), contacted, 'a refused resume contacts no host');
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(project, { recursive: true, force: true });
  }
});
