import { stringify } from 'yaml';
import type { Alert } from './alerts.ts';
import { promqlError } from './promql.ts';

export interface RuleInputs {
  alerts: Record<string, Alert>;
  thresholds: Record<string, number | string>;
  durations: Record<string, string>;
  /** Every mount point DiskSpaceLow watches, over all hosts (each host's monitoring_disk_mountpoints). */
  mountpoints: string[];
  interval: string;
}

/**
 * The mount points as one anchored RE2 alternation inside a PromQL string:
 * "/|/volume1". Regex characters in a path are escaped (a backslash doubled
 * for the PromQL string), so a path matches only itself.
 */
export function mountpointsRegex(mountpoints: string[]): string {
  return [...new Set(mountpoints)].map((m) => m.replace(/[.+*?()|[\]{}^$\\]/g, (c) => `\\\\${c}`)).join('|');
}

/** The rule's expression with its threshold (the inventory's override first) and mount points filled in. */
export function ruleExpr(name: string, a: Alert, i: Pick<RuleInputs, 'thresholds' | 'mountpoints'>): string {
  const threshold = i.thresholds[name] ?? a.threshold;
  return a.expr.replaceAll('${mountpoints}', mountpointsRegex(i.mountpoints)).replaceAll('${threshold}', threshold === undefined ? '${threshold}' : String(threshold));
}

/** Each rule whose expression does not parse: "NAME: why" (the run names the variable's inventory line). */
export function ruleProblems(i: RuleInputs): string[] {
  const problems: string[] = [];
  for (const name of [...Object.keys(i.thresholds), ...Object.keys(i.durations)]) {
    if (!(name in i.alerts)) problems.push(`${name}: no such alert rule (rules: ${Object.keys(i.alerts).join(', ')})`);
  }
  for (const [name, a] of Object.entries(i.alerts)) {
    const expr = ruleExpr(name, a, i);
    if (expr.includes('${threshold}')) problems.push(`${name}: its expression uses \${threshold} but it has no threshold`);
    // One mount point became a list: a rule still written for one would match the literal text "/|/volume1".
    if (a.expr.includes('${mountpoint}')) problems.push(`${name}: \${mountpoint} is now \${mountpoints}, a regex of every host's monitoring_disk_mountpoints: write mountpoint=~"\${mountpoints}"`);
    const err = promqlError(expr);
    if (err) problems.push(`rule ${name}: expression ${JSON.stringify(expr)} is ${err}`);
  }
  return problems;
}

/** The rule file Prometheus loads, grouped as the operators grouped it; one line per expression. */
export function renderRules(i: RuleInputs): string {
  const groups = new Map<string, unknown[]>();
  for (const [name, a] of Object.entries(i.alerts)) {
    const rules = groups.get(a.group) ?? [];
    rules.push({
      alert: name,
      expr: ruleExpr(name, a, i),
      for: i.durations[name] ?? a.for,
      labels: { severity: a.severity, team: a.team },
      annotations: { summary: a.summary, description: a.description },
    });
    groups.set(a.group, rules);
  }
  const doc = { groups: [...groups].map(([name, rules]) => ({ name, interval: i.interval, rules })) };
  return `# Written by rigger's monitoring role from the inventory: edit the inventory, not this file.\n${stringify(doc, { lineWidth: 0 })}`;
}
