// The benchmark's rigger playbook: BENCH_TASKS tasks of the shared workload
// spec (scripts/bench/workload.ts). Run by scripts/bench.ts, like a user would:
//   BENCH_TASKS=20 npx rigger scripts/bench/workload-playbook.ts -i INVENTORY
import { definePlay, ops, runPlaybook } from 'rigger-ops';
import { templateText, workloadTasks } from './workload.ts';

const motd = ops.defineTemplate<{ host: string; group: number }>('bench', (v) => templateText(v.host, v.group));

await runPlaybook([
  definePlay({
    name: 'bench',
    hosts: 'all',
    tasks: ({ task }) => workloadTasks(Number(process.env.BENCH_TASKS ?? 20), ops, motd, task),
  }),
]);
