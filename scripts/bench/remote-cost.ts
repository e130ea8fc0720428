// Round trips and programs started on the host for the benchmark's workload
// (scripts/bench/workload.ts) over a local test sshd: a cold converge, then a
// no-op run, for 20 and 50 tasks on one host. Programs are counted with strace
// attached to the sshd (every execve of every session: the command wrapper's
// sh included). No timing: these counts do not depend on the machine's load.
//   npx tsx scripts/bench/remote-cost.ts [TASKS...]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlay, ops } from '../../lib/index.ts';
import { runPlays } from '../../test/helpers/run.ts';
import { sshInventory, startSshd } from '../../test/helpers/sshd.ts';
import { EXECVE_TRACE, programsStarted } from '../../test/helpers/strace.ts';
import { templateText, workloadTasks } from './workload.ts';

const motd = ops.defineTemplate<{ host: string; group: number }>('bench', (v) => templateText(v.host, v.group));

/** The benchmark's playbook (workload-playbook.ts) under another root, so this machine's /srv is left alone. */
const play = (tasks: number, root: string) => definePlay({ name: 'bench', hosts: 'all', tasks: ({ task }) => workloadTasks(tasks, ops, motd, task, root) });

/** strace on the sshd and everything it forks from now on, until stopped: returns the count of programs started. */
async function tracing(pid: number) {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'rigger-cost-')), 'trace');
  const strace = spawn('strace', [...EXECVE_TRACE, '-o', log, '-p', String(pid)], { stdio: 'ignore' });
  const traced = () => /TracerPid:\s+[1-9]/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  while (!traced()) await sleep(10);
  return async () => {
    strace.kill('SIGINT');
    await new Promise((r) => strace.on('close', r));
    const started = existsSync(log) ? programsStarted(readFileSync(log, 'utf8')) : [];
    rmSync(path.dirname(log), { recursive: true, force: true });
    return started.length;
  };
}

const sshd = await startSshd();
try {
  const inventory = sshInventory([{ name: 'h', sshd }]);
  const pid = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8'));
  const sizes = process.argv.slice(2).map(Number);
  for (const tasks of sizes.length ? sizes : [20, 50]) {
    const root = mkdtempSync(path.join(tmpdir(), 'rigger-bench-root-'));
    for (const run of ['cold', 'no-op']) {
      const stop = await tracing(pid);
      const o = await runPlays(inventory, [play(tasks, root)]);
      const programs = await stop();
      const c = o.summary.counts.get('h')!;
      console.log(`T=${tasks} ${run}: ${o.runner.sessions.get('h')!.roundTrips} round trips, ${programs} programs started on the host (changed ${c.changed}, failed ${c.failed})`);
    }
    execFileSync('rm', ['-rf', root]);
  }
} finally {
  await sshd.stop();
}
