// alerts.ts --dead-rules: the rules Prometheus has loaded, and for each
// selector they read whether Prometheus holds any series, asked from the
// first manager with curl. The verdict is lib/monitoring/dead-rules.ts's;
// this play only fetches.
import { definePlay, ops, quote, type HostContext } from 'rigger-ops';
import type { OutcomeRow } from 'rigger-ops/lib/cli/main';
import { deadRules, parseLoadedRules, selectorsOfRules, seriesCountOf, seriesCountQuery, type DeadRule } from 'rigger-ops/lib/monitoring/dead-rules';
import { onFirstManager } from '../roles/common.ts';
import { monitoringFields } from '../roles/monitoring/defaults.ts';

const schema = monitoringFields.pick({ monitoring_prometheus_url: true });
type H = HostContext<{ monitoring_prometheus_url: string }>;

/**
 * A series counts when it had a sample within this window: a few scrape
 * intervals past the longest rate() window of the rules (5m), so a series
 * that stopped long ago does not keep a rule alive, and one scrape missed
 * does not make it dead.
 */
export const SERIES_WINDOW = '10m';

const RULES_TASK = 'rules from Prometheus';
const SERIES_TASK = 'series of every selector';
/** A URL of Prometheus's API as one shell word. */
const api = (h: H, rest: string) => quote(`${h.vars.monitoring_prometheus_url}${rest}`).toString('utf8');
const word = (s: string) => quote(s).toString('utf8');

/** One curl per selector, one JSON line each, in the selectors' order (set -e: a failed ask fails the task, never reads as "no series"). */
function seriesScript(h: H, selectors: string[]): string {
  const asks = selectors.map((s) => `curl -fsS -m 10 -G --data-urlencode ${word(`query=${seriesCountQuery(s, SERIES_WINDOW)}`)} ${api(h, '/api/v1/query')}\necho`);
  return ['set -e', ...asks].join('\n');
}

/** How many rules Prometheus had loaded and the dead ones, from the two tasks' outputs (the first manager's), or undefined when they did not run. */
export function readDeadRules(rows: OutcomeRow[]): { loaded: number; dead: DeadRule[] } | undefined {
  const out = (name: string) => (rows.find((r) => r.task.name === name && r.outcome.status !== 'skipped')?.outcome.result as { stdout?: string } | undefined)?.stdout;
  const rules = out(RULES_TASK);
  const series = out(SERIES_TASK);
  if (rules === undefined || series === undefined) return undefined;
  return { loaded: parseLoadedRules(rules).length, dead: verdict(rules, series) };
}

function verdict(rulesJson: string, seriesLines: string): DeadRule[] {
  const rules = parseLoadedRules(rulesJson);
  const selectors = selectorsOfRules(rules);
  const lines = seriesLines.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== selectors.length) throw new Error(`Prometheus answered ${lines.length} series counts for ${selectors.length} selectors`);
  return deadRules(rules, new Map(selectors.map((s, i) => [s, seriesCountOf(lines[i]!)])));
}

export const deadRulesPlay = () =>
  definePlay({
    name: 'dead rules',
    hosts: 'managers',
    schema,
    tasks: ({ task }) => {
      const manager = onFirstManager('Prometheus is asked');
      const rules = task({
        name: RULES_TASK,
        ...manager,
        op: (h) => ops.shell({ script: `curl -fsS -m 10 ${api(h, '/api/v1/rules')}`, readOnly: true }),
      });
      const series = task({
        name: SERIES_TASK,
        ...manager,
        op: (h) => ops.shell({ script: seriesScript(h, selectorsOfRules(parseLoadedRules(h.result(rules)?.stdout ?? ''))), readOnly: true }),
      });
      return [
        rules,
        series,
        task({
          name: 'no dead rule',
          ...manager,
          op: (h) => {
            const loaded = parseLoadedRules(h.result(rules)?.stdout ?? '');
            const dead = verdict(h.result(rules)?.stdout ?? '', h.result(series)?.stdout ?? '');
            // No rule loaded is no check at all (a rule file not in place): a failure, not "none dead".
            if (loaded.length === 0) return ops.assert({ that: false, message: 'Prometheus has loaded no rules: is the rule file in place (the monitoring role writes rules/alerts.yml)?' });
            return ops.assert({
              that: dead.length === 0,
              message: `rules that cannot fire (selectors without series): ${dead.map((d) => `${d.name} (${d.missing.join(', ')})`).join('; ')}`,
              success: `every selector of the ${loaded.length} loaded rules has series`,
            });
          },
        }),
      ];
    },
  });
