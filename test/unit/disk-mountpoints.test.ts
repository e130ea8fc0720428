// DiskSpaceLow watches every host's monitoring_disk_mountpoints (issue 29
// item 6: the NAS's /volume1 was unwatched): the rule's regex from the
// homelab inventory, each path matching itself only, the old single-value
// variable refused with the line to write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { loadInventories } from '../../lib/inventory/load.ts';
import { plainVars } from '../../lib/runner/host-vars.ts';
import { selectorsOf } from '../../lib/monitoring/dead-rules.ts';
import { OPERATOR_ALERTS } from '../../roles/monitoring/alerts.ts';
import { monitoringDefaults } from '../../roles/monitoring/defaults.ts';
import { allMountpoints } from '../../roles/monitoring/index.ts';
import { promqlError } from '../../roles/monitoring/promql.ts';
import { renderRules, ruleProblems } from '../../roles/monitoring/rules.ts';
import { HOMELAB_VAULT_PASSWORD } from '../../scripts/lab/rehearsal.ts';

const diskRule = (mountpoints: string[]) => {
  const doc = parse(renderRules({ alerts: OPERATOR_ALERTS, thresholds: {}, durations: {}, mountpoints, interval: '30s' })) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules).find((r) => r.alert === 'DiskSpaceLow')!.expr;
};

/** The regex of the rule's mountpoint matcher, as Prometheus reads it (PromQL string unescaped), anchored as RE2 label matchers are. */
function mountpointRegex(expr: string): RegExp {
  const literal = /mountpoint=~"((?:[^"\\]|\\.)*)"/.exec(expr)![1]!;
  return new RegExp(`^(?:${JSON.parse(`"${literal}"`) as string})$`);
}

test("homelab.yml: the rule watches every host's / and the NAS's /volume1", async () => {
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const mountpoints = allMountpoints({ groupHosts: (g) => inv.hostsOf(g), hostVars: (h) => plainVars(inv.varsFor(h)) });
  assert.deepEqual(mountpoints.sort(), ['/', '/volume1']);
  const expr = diskRule(mountpoints);
  assert.equal(promqlError(expr), undefined);
  const re = mountpointRegex(expr);
  assert.ok(re.test('/') && re.test('/volume1'));
  assert.ok(!re.test('/volume1/backup') && !re.test('/boot'), 'anchored: only the listed mounts');
  // Each listed mount is its own selector for --dead-rules: a /volume1 without series is reported.
  assert.ok(selectorsOf(expr).includes('node_filesystem_avail_bytes{mountpoint=~"/volume1"}'));
});

test('a path with regex characters matches itself only, and the expression stays PromQL', () => {
  const expr = diskRule(['/mnt/a.b', '/srv/x+y']);
  assert.equal(promqlError(expr), undefined);
  const re = mountpointRegex(expr);
  assert.ok(re.test('/mnt/a.b') && re.test('/srv/x+y'));
  assert.ok(!re.test('/mnt/axb') && !re.test('/srv/xxy'));
});

test('the old monitoring_disk_mountpoint is refused, naming the variable to write; a rule still using ${mountpoint} too', () => {
  const r = monitoringDefaults.safeParse({ monitoring_disk_mountpoint: '/data' });
  assert.equal(r.success, false);
  const issue = !r.success ? r.error.issues.find((i) => i.path[0] === 'monitoring_disk_mountpoint') : undefined;
  assert.match(issue?.message ?? '', /monitoring_disk_mountpoints: \["\/data"\]/);
  const old = { ...OPERATOR_ALERTS.DiskSpaceLow!, expr: 'node_filesystem_avail_bytes{mountpoint="${mountpoint}"} < 1' };
  assert.match(ruleProblems({ alerts: { Old: old }, thresholds: {}, durations: {}, mountpoints: ['/'], interval: '30s' }).join('\n'), /\$\{mountpoint\} is now \$\{mountpoints\}/);
  assert.equal(monitoringDefaults.safeParse({ monitoring_disk_mountpoints: [] }).success, false, 'an empty list would watch nothing');
});
