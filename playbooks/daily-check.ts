// The operators' daily check, on every node at once: disk use per mount
// (warn 80 %, fail 85 %), memory, load, journal errors of the last 24 h;
// on the first manager the swarm's nodes, every service's replicas and
// restarts, the certificates of daily_tls_endpoints (warn under 30 days);
// on the backup node the age of the newest verified set (fail over 26 h).
// A table (or, with --json, the findings as JSON in the report event);
// exits 2 when anything fails.
//   npx tsx playbooks/daily-check.ts [-i inventory] [--json]
import { definePlay, ops, runPlaybook, z } from 'rigger-ops';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import type { Finding } from 'rigger-ops/lib/daily/findings';
import { alignColumns } from 'rigger-ops/lib/ui/columns';
import { onFirstManager } from '../roles/common.ts';

const failing = (f: Finding[]) => f.filter((x) => x.level === 'fail');
const READINGS = ['node', 'swarm', 'backup age'];
let json = false;

/** Every reading's findings; a host that could not be read at all is a failure of its own. */
function findings(rows: OutcomeRow[]): Finding[] {
  return rows
    .filter((r) => READINGS.includes(r.task.name))
    .flatMap((r): Finding[] => {
      if (Array.isArray(r.outcome.result)) return r.outcome.result as Finding[];
      if (r.outcome.status === 'skipped') return [];
      return [{ area: 'reachable', subject: r.host, level: 'fail', detail: r.outcome.msg ?? r.outcome.status }];
    });
}

function report(rows: OutcomeRow[]): string {
  const all = findings(rows);
  if (json) return JSON.stringify(all);
  const order = { fail: 0, warn: 1, pass: 2 };
  const sorted = [...all].sort((a, b) => order[a.level] - order[b.level]);
  return alignColumns([['', 'area', 'subject', 'detail'], ...sorted.map((f) => [f.level.toUpperCase(), f.area, f.subject, f.detail])]);
}

const schema = z.object({
  daily_tls_endpoints: z.array(z.string()).default([]),
  backup_items: z.array(z.unknown()).default([]),
  backup_root: z.string().default('/volume1/backup'),
});

await runPlaybook(
  (opts) => {
    json = opts.json;
    return [
      // One play, readings first and the verdict last: a failed reading must not stop a host's other readings.
      definePlay({
        name: 'daily check',
        hosts: 'all',
        schema,
        tasks: ({ task }) => {
          const node = task({ name: 'node', op: (h) => ops.daily.node({ host: h.name }) });
          const swarm = task({ name: 'swarm', ...onFirstManager('the swarm is read'), op: (h) => ops.daily.swarm({ tlsEndpoints: h.vars.daily_tls_endpoints }) });
          const backup = task({
            name: 'backup age',
            when: (h) => h.vars.backup_items.length > 0,
            whenReason: 'no backup_items here',
            op: (h) => ops.daily.backup({ host: h.name, root: h.vars.backup_root }),
          });
          return [
            node,
            swarm,
            backup,
            task({
              name: 'verdict',
              op: (h) => {
                const bad = failing([...(h.result(node) ?? []), ...(h.result(swarm) ?? []), ...(h.result(backup) ?? [])]);
                return ops.assert({ that: bad.length === 0, message: `failed: ${bad.map((b) => `${b.subject} ${b.detail}`).join('; ')}`, success: 'nothing failed' });
              },
            }),
          ];
        },
      }),
    ];
  },
  { report },
);
