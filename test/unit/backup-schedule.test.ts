import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupVars, duplicateItemNames } from '../../lib/backup/config.ts';
import { parseListing } from '../../lib/backup/listing.ts';
import { missedRuns } from '../../lib/backup/report.ts';
import { cronToOnCalendar, nextRuns, wallClock } from '../../lib/backup/schedule.ts';
import { parseSetOutput, setCommand } from '../../lib/backup/set-script.ts';
import { Secret } from '../../lib/shell/secret.ts';

test('cron schedules become systemd OnCalendar expressions', () => {
  const table: [string, string][] = [
    ['0 2 * * *', '*-*-* 02:00:00'],
    ['0 3 * * 0', 'Sun *-*-* 03:00:00'],
    ['0 3 * * 7', 'Sun *-*-* 03:00:00'],
    ['30 1 * * mon-fri', 'Mon,Tue,Wed,Thu,Fri *-*-* 01:30:00'],
    ['*/15 * * * *', '*-*-* *:00,15,30,45:00'],
    ['0 0 1 */3 *', '*-01,04,07,10-01 00:00:00'],
    ['5 4 1,15 * *', '*-*-01,15 04:05:00'],
    ['0 22 * jan-mar *', '*-01,02,03-* 22:00:00'],
    ['@daily', '*-*-* 00:00:00'],
    ['@weekly', 'Sun *-*-* 00:00:00'],
  ];
  for (const [cron, calendar] of table) assert.equal(cronToOnCalendar(cron), calendar, cron);
});

test('schedules systemd cannot mean the same are refused with the reason', () => {
  assert.throws(() => cronToOnCalendar('0 2 1 * mon'), /either matches.*both do/);
  assert.throws(() => cronToOnCalendar('@reboot'), /no systemd timer equivalent/);
  assert.throws(() => cronToOnCalendar('0 25 * * *'), /hour: "25" is not in 0-23/);
  assert.throws(() => cronToOnCalendar('0 2 * *'), /five fields/);
});

test('next runs are wall-clock times of the host time zone', () => {
  const from = new Date('2026-11-22T12:00:00Z'); // 21:00 in Seoul, a Sunday
  assert.deepEqual(nextRuns('0 2 * * *', 'Asia/Seoul', 3, from).map((d) => wallClock(d, 'Asia/Seoul')), ['2026-11-23 02:00', '2026-11-24 02:00', '2026-11-25 02:00']);
  assert.deepEqual(nextRuns('0 3 * * 0', 'Asia/Seoul', 2, from).map((d) => wallClock(d, 'Asia/Seoul')), ['2026-11-29 03:00', '2026-12-06 03:00']);
});

test('a night with no scheduled run in the log is reported missed', () => {
  const at = (iso: string) => ({ at: iso, kind: 'set' as const, status: 'ok' as const, trigger: 'schedule' as const });
  const log = [at('2026-11-18T17:00:05Z'), at('2026-11-19T17:00:04Z'), at('2026-11-21T17:00:06Z')]; // 02:00 Seoul on the 19th, 20th, 22nd
  const missed = missedRuns(log, '0 2 * * *', 'Asia/Seoul', new Date('2026-11-22T12:00:00Z'));
  assert.deepEqual(missed.map((d) => wallClock(d, 'Asia/Seoul')), ['2026-11-21 02:00']);
  assert.deepEqual(missedRuns([{ ...at('2026-11-21T17:00:06Z'), trigger: 'manual' }], '0 2 * * *', 'Asia/Seoul'), [], 'manual runs only: no timer, nothing missed');
});

test('backup variables: defaults from CLUSTER.md, bad values named', () => {
  const v = backupVars.parse({ backup_items: [{ kind: 'postgres', service: 'data_postgres', database: 'vibedb', password: 's3cret' }] });
  assert.equal(v.backup_root, '/volume1/backup');
  assert.equal(v.backup_schedule, '0 2 * * *');
  assert.equal(v.offsite_schedule, '0 3 * * 0');
  const item = v.backup_items[0]!;
  assert.ok(item.kind === 'postgres' && item.password instanceof Secret, 'a plain password becomes a Secret');
  const bad = backupVars.safeParse({ backup_items: [{ kind: 'postgres', service: 'x; rm -rf /', database: 'db' }] });
  assert.ok(!bad.success);
  assert.match(bad.error.issues[0]!.message, /service: letters, digits/);
  assert.ok(!backupVars.safeParse({ backup_schedule: '0 2 * *' }).success);
  assert.deepEqual(duplicateItemNames(backupVars.parse({ backup_items: [{ kind: 'volume', volume: 'a' }, { kind: 'volume', volume: 'a' }] }).backup_items), ['volume-a']);
});

test('the set script keeps the password out of argv and reads it from stdin', () => {
  const vars = backupVars.parse({ backup_items: [{ kind: 'postgres', service: 'pg', database: 'vibedb', password: 'hunter2-secret' }] });
  const c = setCommand({ vars, items: vars.backup_items });
  assert.ok(!c.bytes.toString().includes('hunter2-secret'));
  assert.equal(c.stdinBytes().toString(), 'hunter2-secret\n');
  assert.ok(!c.display().includes('hunter2'));
  assert.match(c.bytes.toString(), /set -euo pipefail/);
  assert.match(c.bytes.toString(), /umask 077/);
});

test('the set script protocol: a failure names the item and the reason; stale partials are reported', () => {
  const ok = parseSetOutput('@@stale 20261121_020000\n@@set 20261122_020000\n@@start a\n@@done a 100 ' + 'f'.repeat(64) + '\n@@published 20261122_020000 100\n');
  assert.deepEqual(ok, { set: '20261122_020000', published: true, bytes: 100, items: [{ name: 'a', bytes: 100, sha256: 'f'.repeat(64) }], stale: ['20261121_020000'] });
  const bad = parseSetOutput('@@set 20261122_020000\n@@start postgres-pg-vibedb\n@@fail postgres-pg-vibedb\tpg_dump of database vibedb failed: password authentication failed\n');
  assert.equal(bad.published, false);
  assert.deepEqual(bad.failure, { item: 'postgres-pg-vibedb', reason: 'pg_dump of database vibedb failed: password authentication failed' });
});

test('a listing tells published sets from partial and unreadable ones', () => {
  const manifest = { format: 1, set: '20261122_020000', created: 'x', host: 'data', bytes: 1, items: [] };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');
  const stdout = [
    '@@set 20261120_020000 8',
    b64({ ...manifest, set: '20261120_020000' }),
    '@@set 20261121_020000 4',
    '',
    '@@set 20261122_020000.partial 12',
    '',
    '@@set 20261122_030000 4',
    Buffer.from('{not json').toString('base64'),
    '@@log',
    Buffer.from(JSON.stringify({ at: 'x', kind: 'set', status: 'failed', trigger: 'manual', reason: 'disk full' }) + '\ntorn lin').toString('base64'),
    '@@df 1024',
  ].join('\n');
  const l = parseListing({ stdout: Buffer.from(stdout), stderr: Buffer.alloc(0), code: 0, durationMs: 0 });
  assert.deepEqual(l.sets.map((s) => [s.name, s.state]), [
    ['20261120_020000', 'published'],
    ['20261121_020000', 'partial'],
    ['20261122_020000', 'partial'],
    ['20261122_030000', 'unreadable'],
  ]);
  assert.equal(l.log.length, 1, 'a torn line is skipped');
  assert.equal(l.availKb, 1024);
});

test('the real cluster inventory: the data node backs up its databases, Gitea, volumes and configuration', async () => {
  const { loadInventories } = await import('../../lib/inventory/load.ts');
  const { plainVars } = await import('../../lib/runner/host-vars.ts');
  const inv = await loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });
  const v = backupVars.parse(plainVars(inv.varsFor('data.vibe.local')));
  assert.deepEqual(v.backup_items.map((i) => i.kind), ['postgres', 'postgres', 'postgres', 'postgres', 'postgres', 'gitea', 'volume', 'config']);
  assert.ok(v.backup_items.every((i) => i.kind !== 'postgres' || i.password instanceof Secret), 'database passwords are vault secrets');
  assert.ok(v.backup_offsite?.rclone_config instanceof Secret);
  assert.ok(v.backup_webhook instanceof Secret);
  assert.equal(cronToOnCalendar(v.backup_schedule), '*-*-* 02:00:00');
  assert.equal(cronToOnCalendar(v.offsite_schedule), 'Sun *-*-* 03:00:00');
  assert.deepEqual(duplicateItemNames(v.backup_items), []);
});
