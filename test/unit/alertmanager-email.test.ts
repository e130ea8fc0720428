import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { parse } from 'yaml';
import { ops } from '../../lib/index.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { alertmanagerConfigOf, monitoringDefaults } from '../../roles/monitoring/index.ts';
import type { MonitoringVars } from '../../roles/monitoring/defaults.ts';
import { HOMELAB_VAULT_PASSWORD } from '../../scripts/lab/rehearsal.ts';
import { scratchDir } from '../helpers/run.ts';

// Alertmanager mails the operators beside Slack (../shared/operators/000
// section 6.4: monitor.sh's ALERT_EMAIL and SLACK_WEBHOOK_URL). The SMTP
// password is a !vault value that reaches Alertmanager as a file only.

const SMTP_PASSWORD = 'example-smtp-password'; // homelab.yml's example value, under its example passphrase

async function homelabMonitoring(): Promise<MonitoringVars> {
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  return typedVars(monitoringDefaults, inv.varsFor('gateway.vibe.local'), 'monitoring', 'gateway.vibe.local');
}

/** Debian's amtool (test-deps.sh installs it), as Alertmanager's own loader reads the file. */
function amtoolCheck(config: string): { code: number | null; output: string } {
  const file = path.join(scratchDir(), 'alertmanager.yml');
  writeFileSync(file, config);
  const r = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
  return { code: r.status, output: `${r.stdout}${r.stderr}${r.error ?? ''}` };
}

test("homelab.yml: Alertmanager mails admin@vibe.local beside Slack, the password named by its file only; amtool accepts it", async () => {
  const v = await homelabMonitoring();
  assert.ok(v.monitoring_email?.auth_password instanceof Secret);
  assert.equal(v.monitoring_email.auth_password.reveal(), SMTP_PASSWORD);
  const config = alertmanagerConfigOf(v);
  const doc = parse(config) as { receivers: { slack_configs?: unknown[]; email_configs?: Record<string, unknown>[] }[] };
  assert.equal(doc.receivers.length, 1);
  assert.equal(doc.receivers[0]!.slack_configs?.length, 1, 'Slack stays');
  assert.deepEqual(doc.receivers[0]!.email_configs, [
    {
      to: 'admin@vibe.local',
      from: 'alertmanager@vibe.local',
      smarthost: 'smtp.yourdomain.com:587',
      auth_username: 'alertmanager@vibe.local',
      auth_password_file: '/etc/alertmanager/smtp-password',
      require_tls: true,
      send_resolved: true,
    },
  ]);
  assert.ok(!config.includes(SMTP_PASSWORD), 'the password is not in the configuration');
  const checked = amtoolCheck(config);
  assert.equal(checked.code, 0, checked.output);
  assert.match(checked.output, /SUCCESS/);
});

test('the SMTP password file is a Secret written 0400 for Alertmanager alone: no parameter, description or log line shows it', async () => {
  const v = await homelabMonitoring();
  const op = ops.copy({ path: '/opt/monitoring/alertmanager/smtp-password', content: v.monitoring_email!.auth_password!, mode: '0400', owner: 'nobody' });
  assert.deepEqual(op.problems, []);
  for (const shown of [JSON.stringify(op.params), inspect(op.params, { depth: 10 }), op.describe(), JSON.stringify(v.monitoring_email), inspect(v.monitoring_email)]) {
    assert.ok(!shown.includes(SMTP_PASSWORD), shown);
  }
});

test('a plain-text SMTP password, a smarthost without a port or a login without its password is refused', () => {
  const email = { from: 'am@example.org', smarthost: 'smtp.example.org:587' };
  const refused = (e: Record<string, unknown>) => monitoringDefaults.safeParse({ monitoring_email: { ...email, ...e } });
  assert.match(JSON.stringify(refused({ auth_username: 'am', auth_password: 'plain' }).error?.issues), /must be a !vault value/);
  assert.equal(refused({ smarthost: 'smtp.example.org' }).success, false);
  assert.match(JSON.stringify(refused({ auth_username: 'am' }).error?.issues), /together/);
  // Without a login: mail through a relay, to the operators' address by default.
  const relay = monitoringDefaults.parse({ monitoring_email: email });
  const doc = parse(alertmanagerConfigOf(relay)) as { receivers: { email_configs: Record<string, unknown>[] }[] };
  assert.deepEqual(doc.receivers[0]!.email_configs.map((e) => [e.to, 'auth_username' in e]), [['admin@vibe.local', false]]);
  assert.equal(amtoolCheck(alertmanagerConfigOf(relay)).code, 0);
  // No monitoring_email: no e-mail receiver at all.
  assert.equal((parse(alertmanagerConfigOf(monitoringDefaults.parse({}))) as { receivers: Record<string, unknown>[] }).receivers[0]!.email_configs, undefined);
});

test("amtool refuses what Alertmanager would (the check is real): a misspelt field fails", () => {
  const bad = alertmanagerConfigOf(monitoringDefaults.parse({ monitoring_email: { from: 'am@example.org', smarthost: 'smtp.example.org:587' } })).replace('require_tls:', 'requires_tls:');
  const r = amtoolCheck(bad);
  assert.notEqual(r.code, 0);
  assert.match(r.output, /requires_tls/);
});
