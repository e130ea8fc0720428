// The alerts firing now across the cluster, read from Alertmanager's API on
// the first manager; exits non-zero while a critical one fires (for the
// daily check or cron). --silence NAME --for 2h silences every alert NAME.
// --dead-rules instead lists the loaded rules that cannot fire: a selector
// with no series in Prometheus (exit 2 when there is one).
//   npx tsx playbooks/alerts.ts [-i inventory] [--json] [--silence NAME --for 2h | --dead-rules]
import { definePlay, ops, quote, runPlaybook } from 'rigger-ops';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import { alertTable, critical, parseAlerts, parseDuration, silenceBody, type ApiAlert } from 'rigger-ops/lib/monitoring/alerts';
import { deployer, onFirstManager } from '../roles/common.ts';
import { monitoringFields } from '../roles/monitoring/defaults.ts';
import { deadRulesTable } from 'rigger-ops/lib/monitoring/dead-rules';
import { deadRulesPlay, readDeadRules } from './dead-rules-play.ts';

const usage = 'Usage: npx tsx playbooks/alerts.ts [-i inventory] [--json] [--silence NAME --for DURATION | --dead-rules]';
const schema = monitoringFields.pick({ monitoring_alertmanager_url: true });
let json = false;
let dead = false;
/** An API URL of Alertmanager's as one shell word: z.url() lets a quote, `;` or `$(` through. */
const api = (base: string, rest: string) => quote(`${base}${rest}`).toString('utf8');

function read(rows: OutcomeRow[]): ApiAlert[] | undefined {
  const row = rows.find((r) => r.task.name === 'alerts from Alertmanager' && r.outcome.status !== 'skipped');
  const out = (row?.outcome.result as { stdout?: string } | undefined)?.stdout;
  return out === undefined ? undefined : parseAlerts(out);
}

await runPlaybook(
  (opts) => {
    json = opts.json;
    dead = opts.flags['dead-rules'] === true;
    if (dead && opts.flags.silence !== undefined) throw new Error('--dead-rules reads Prometheus only: give it without --silence');
    if (dead) return [deadRulesPlay()];
    const name = opts.flags.silence as string | undefined;
    const forText = (opts.flags.for as string | undefined) ?? '2h';
    const ms = parseDuration(forText);
    if (name !== undefined && ms === undefined) throw new Error(`--for ${forText}: a duration such as 2h, 30m or 1h30m`);
    return [
      definePlay({
        name: 'alerts',
        hosts: 'managers',
        schema,
        tasks: ({ task }) => {
          const manager = onFirstManager('Alertmanager is asked');
          const silence = name !== undefined && ms !== undefined
            ? [task({
                name: `silence ${name} for ${forText}`,
                ...manager,
                op: (h) => ops.shell({ script: `curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- ${api(h.vars.monitoring_alertmanager_url, '/api/v2/silences')}`, stdin: silenceBody(name, ms, deployer()) }),
              })]
            : [];
          const alerts = task({
            name: 'alerts from Alertmanager',
            ...manager,
            op: (h) => ops.shell({ script: `curl -fsS -m 10 ${api(h.vars.monitoring_alertmanager_url, '/api/v2/alerts?active=true&silenced=false&inhibited=false')}`, readOnly: true }),
          });
          return [
            ...silence,
            alerts,
            task({
              name: 'no critical alert firing',
              ...manager,
              op: (h) => {
                const crit = critical(parseAlerts(h.result(alerts)?.stdout ?? '[]'));
                return ops.assert({ that: crit.length === 0, message: `critical: ${crit.map((a) => `${a.labels.alertname} ${a.labels.instance ?? ''}`.trim()).join(', ')}`, success: 'no critical alert' });
              },
            }),
          ];
        },
      }),
    ];
  },
  {
    usage,
    flags: { silence: { type: 'string' }, for: { type: 'string' }, 'dead-rules': { type: 'boolean' } },
    report: (rows) => {
      if (dead) {
        const found = readDeadRules(rows);
        if (!found) return 'Prometheus was not read: see the errors above';
        if (found.loaded === 0) return 'Prometheus has loaded no rules';
        return json ? JSON.stringify(found.dead) : deadRulesTable(found.dead);
      }
      const alerts = read(rows);
      if (!alerts) return 'Alertmanager was not read: see the errors above';
      return json ? JSON.stringify(alerts) : alertTable(alerts);
    },
  },
);
