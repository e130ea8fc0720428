import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { backupVars } from '../../lib/backup/config.ts';
import { backupJobs } from '../../roles/backup/schedule.ts';
import { serviceUnit } from '../../roles/scheduled/units.ts';
import { scratchDir } from '../helpers/run.ts';

// The scheduled jobs' service units as the install writes them, read by
// this machine's systemd tools (systemd-analyze: systemd's own unit parser
// and time-span rules), which need no running systemd.

/** systemd's reading of a unit file: its warnings (none for a good file) and its [Service] settings. */
function systemdReads(unitText: string, name: string): { warnings: string; service: Map<string, string> } {
  const file = path.join(scratchDir(), name);
  writeFileSync(file, unitText);
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  // The settings as systemd's unit-file syntax defines them: KEY=VALUE lines of a [Service] section.
  const service = new Map<string, string>();
  let section = '';
  for (const line of unitText.split('\n')) {
    if (/^\[.*\]$/.test(line)) section = line;
    else if (section === '[Service]' && /^[A-Za-z]+=/.test(line)) service.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return { warnings: verify.stderr.trim(), service };
}

/** A systemd time span in microseconds, by systemd's own parser. */
function timespanMicroseconds(span: string): number {
  const out = execFileSync('systemd-analyze', ['timespan', span], { encoding: 'utf8' });
  return Number(/μs: (\d+)/.exec(out)![1]);
}

const HOUR_US = 3600 * 1e6;

test('item 3: every job unit stops the run after its inventory timeout (2 h unless told), and reports it after stop', () => {
  const told = backupJobs(backupVars.parse({ backup_timeout: '3h', offsite_timeout: 5400, backup_offsite: { remote: 'b2:bucket/backup' } }));
  const expected: Record<string, number> = { 'rigger-backup': 3 * HOUR_US, 'rigger-backup-offsite': 1.5 * HOUR_US };
  for (const job of told) {
    const { warnings, service } = systemdReads(serviceUnit('/opt/rigger/backup', job), `${job.name}.service`);
    assert.equal(warnings, '', `systemd reads ${job.name}.service without a warning`);
    assert.equal(timespanMicroseconds(service.get('TimeoutStartSec')!), expected[job.name], `${job.name}: TimeoutStartSec`);
    assert.match(service.get('ExecStopPost')!, /run-job\.mjs --after-stop rigger-backup(-offsite)?\.json$/);
  }
  for (const job of backupJobs(backupVars.parse({ backup_offsite: { remote: 'b2:bucket/backup' } }))) {
    const { service } = systemdReads(serviceUnit('/opt/rigger/backup', job), `${job.name}.service`);
    assert.equal(timespanMicroseconds(service.get('TimeoutStartSec')!), 2 * HOUR_US, `${job.name}: 2 h by default`);
  }
});

test('item 3: a timeout that is not a duration, too short to stop and report, or longer than a week, is refused naming the variable', () => {
  const bad = backupVars.safeParse({ backup_timeout: 'two hours' });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues[0]!.path, ['backup_timeout']);
  assert.match(bad.error.issues[0]!.message, /90min, 2h/);
  const short = backupVars.safeParse({ offsite_timeout: '2min' });
  assert.ok(!short.success);
  assert.deepEqual(short.error.issues[0]!.path, ['offsite_timeout']);
  assert.match(short.error.issues[0]!.message, /at least 5 min/);
  const long = backupVars.safeParse({ backup_timeout: '200h' });
  assert.ok(!long.success);
  assert.match(long.error.issues[0]!.message, /at most 7 days/);
});
