import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { alignColumns } from '../shell/columns.ts';

/**
 * Dead rules: loaded rules whose expression reads a series Prometheus does
 * not have. Such a rule can never fire (a missing series compares as nothing,
 * not as zero), so a typo'd metric, an exporter without its collector or a
 * scrape job that does not exist stays silent for ever. Pure: alerts.ts
 * --dead-rules fetches the rules and the series counts, this decides.
 */

/** One rule as Prometheus's GET /api/v1/rules lists it (the fields read here). */
export interface LoadedRule {
  name: string;
  group: string;
  /** The expression as Prometheus loaded it (its own printing of the rule file's expr). */
  query: string;
}

export interface DeadRule extends LoadedRule {
  /** The selectors of the expression that match no series. */
  missing: string[];
}

/** GET /api/v1/rules's body -> every alerting and recording rule, with its group. */
export function parseLoadedRules(json: string): LoadedRule[] {
  const body = JSON.parse(json) as { status?: string; data?: { groups?: { name: string; rules?: { name: string; query: string }[] }[] } };
  if (body.status !== 'success' || !Array.isArray(body.data?.groups)) throw new Error(`Prometheus did not answer with its rule groups: ${json.slice(0, 200)}`);
  return body.data.groups.flatMap((g) => (g.rules ?? []).map((r) => ({ name: r.name, group: g.name, query: r.query })));
}

/** absent(x) and absent_over_time(x[d]) are about a missing series: their selectors are meant to match nothing at times. */
const ABSENCE = new Set(['Absent', 'AbsentOverTime']);

interface Matcher {
  name: string;
  op: string;
  /** The string literal as written, quotes included. */
  literal: string;
}

const text = (expr: string, n: SyntaxNode) => expr.slice(n.from, n.to);

function matchersOf(expr: string, selector: SyntaxNode): Matcher[] {
  const matchers: Matcher[] = [];
  const list = selector.getChild('LabelMatchers');
  for (let m = list?.firstChild ?? null; m; m = m.nextSibling) {
    // {"name"}: a metric name written as a quoted string (Prometheus 3's UTF-8 names), kept as written.
    if (m.name === 'QuotedLabelName') matchers.push({ name: '', op: '', literal: text(expr, m) });
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
    const name = m.firstChild!;
    const op = m.getChild('MatchOp')!;
    const literal = m.getChild('StringLiteral')!;
    matchers.push({ name: text(expr, name), op: text(expr, op), literal: text(expr, literal) });
  }
  return matchers;
}

const render = (metric: string, matchers: Matcher[]) =>
  `${metric}${matchers.length || !metric ? `{${matchers.map((m) => `${m.name}${m.op}${m.literal}`).join(', ')}}` : ''}`;

/**
 * A regex matcher that lists plain values (mountpoint=~"/|/volume1", the way
 * the monitoring role watches each listed mount point) is one check per
 * value: a rule watching two mounts with one missing is half dead, and the
 * missing one is the point. A regex with any other syntax is checked whole.
 */
function alternatives(m: Matcher): Matcher[] {
  if (m.op !== '=~') return [m];
  const quote = m.literal[0]!;
  const body = m.literal.slice(1, -1);
  if (!body.includes('|') || /[\\()[\]{}*+?^$]/.test(body)) return [m];
  return body.split('|').map((v) => ({ ...m, literal: `${quote}${v}${quote}` }));
}

/**
 * The vector selectors an expression reads, outside absent() and
 * absent_over_time(), each as its own PromQL selector (range and offset
 * dropped: the question is only whether the series exist), regex lists split
 * into one selector per value, in order, without repeats.
 */
export function selectorsOf(expr: string): string[] {
  const out: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (n) => {
      if (n.name === 'FunctionCall') {
        const fn = n.node.getChild('FunctionIdentifier')?.firstChild?.name;
        if (fn && ABSENCE.has(fn)) return false;
      }
      if (n.name !== 'VectorSelector') return undefined;
      const id = n.node.getChild('Identifier');
      const metric = id ? text(expr, id) : '';
      const matchers = matchersOf(expr, n.node);
      // One selector per combination of listed values (in practice one regex list per selector).
      let combos: Matcher[][] = [[]];
      for (const m of matchers) combos = combos.flatMap((c) => alternatives(m).map((a) => [...c, a]));
      for (const c of combos) {
        const s = render(metric, c);
        if (!out.includes(s)) out.push(s);
      }
      return false;
    },
  });
  return out;
}

/** Every distinct selector the rules read: what the playbook asks Prometheus about. */
export const selectorsOfRules = (rules: LoadedRule[]): string[] => [...new Set(rules.flatMap((r) => selectorsOf(r.query)))];

/**
 * The rules with a selector that has no series, given how many series each
 * selector matched. A selector Prometheus was not asked about counts as
 * missing: a verdict never passes on a question not put.
 */
export function deadRules(rules: LoadedRule[], seriesCount: ReadonlyMap<string, number>): DeadRule[] {
  return rules
    .map((r) => ({ ...r, missing: selectorsOf(r.query).filter((s) => (seriesCount.get(s) ?? 0) === 0) }))
    .filter((r) => r.missing.length > 0);
}

/**
 * How many series a selector has, from GET /api/v1/query's body for
 * count(last_over_time(SELECTOR[window])): an empty vector is 0.
 */
export function seriesCountOf(json: string): number {
  const body = JSON.parse(json) as { status?: string; data?: { resultType?: string; result?: { value?: [number, string] }[] } };
  if (body.status !== 'success' || body.data?.resultType !== 'vector') throw new Error(`Prometheus did not answer the series count with a vector: ${json.slice(0, 200)}`);
  return Number(body.data.result?.[0]?.value?.[1] ?? 0);
}

/** The instant query that counts a selector's series seen within `window` (a Prometheus duration). */
export const seriesCountQuery = (selector: string, window: string) => `count(last_over_time(${selector}[${window}]))`;

/** A table of the dead rules, or the line saying there are none. */
export function deadRulesTable(dead: DeadRule[]): string {
  if (dead.length === 0) return 'no dead rules: every selector of every loaded rule has series';
  return alignColumns([['rule', 'group', 'selectors without series'], ...dead.map((d) => [d.name, d.group, d.missing.join('  ')])]);
}
