// The benchmark's rigger playbook: BENCH_TASKS tasks of the shared workload
// spec (scripts/bench/workload.ts). Run by scripts/bench.ts, like a user would:
//   BENCH_TASKS=20 npx rigger scripts/bench/workload-playbook.ts -i INVENTORY
import { definePlay, ops, runPlaybook } from 'rigger-ops';
import { copyContent, lineText, templateText, workload } from './workload.ts';

const motd = ops.defineTemplate<{ host: string; group: number }>('bench', (v) => templateText(v.host, v.group));

await runPlaybook([
  definePlay({
    name: 'bench',
    hosts: 'all',
    tasks: ({ task }) =>
      workload(Number(process.env.BENCH_TASKS ?? 20)).map((it) => {
        const d = it.dir;
        const name = `t${it.index} ${it.kind}`;
        switch (it.kind) {
          case 'directory':
            return task({ name, op: ops.file({ path: d, state: 'directory' }) });
          case 'copy':
            return task({ name, op: ops.copy({ path: `${d}/c.txt`, content: copyContent(it.group) }) });
          case 'line':
            return task({ name, op: ops.line({ path: `${d}/lines.txt`, line: lineText(it.group), create: true }) });
          case 'symlink':
            return task({ name, op: ops.file({ path: `${d}/link`, state: 'link', src: '/etc/hostname' }) });
          case 'mode':
            return task({ name, op: ops.file({ path: `${d}/c.txt`, state: 'file', mode: '0600' }) });
          case 'command':
            return task({ name, op: ops.command({ argv: ['touch', `${d}/cmd.done`], creates: `${d}/cmd.done` }) });
          case 'template':
            return task({ name, op: (h) => ops.template({ path: `${d}/t.conf`, template: motd, vars: { host: h.name, group: it.group } }) });
        }
      }),
  }),
]);
