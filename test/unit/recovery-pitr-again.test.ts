import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pitrConfig } from '../../lib/pitr/config.ts';
import type { HostContext } from '../../lib/model/host-context.ts';
import type { Task } from '../../lib/model/task.ts';
import { recoveryPlays } from '../../playbooks/recovery-plays.ts';
import { pitrAgainReport } from '../../playbooks/pitr-again.ts';

// A recovery with postgres_pitr starts point-in-time archiving again, and moves
// the old archive aside only when the database host's databases were restored
// (a new cluster, a new system identifier): never when the host kept its data.

// inventory/homelab.yml's shape: the NAS (data) runs PostgreSQL and is a backup host; ai keeps the archive.
const pitr = pitrConfig.parse({ database_host: 'data', archive_host: 'ai', archive_dir: '/srv/backup/pitr', password: 'pw' });
const DB = { kind: 'postgres', name: 'gateway', service: 'gateway_postgres', file: 'gateway.dump' };
const VOL = { kind: 'volume', name: 'models', volume: 'models', file: 'models.tar' };

/** What the verify play found on each backup host: its set's items and the data in place. */
type Found = Record<string, { items: object[]; found: string[] }>;

function hostOf(name: string, built: ReturnType<typeof recoveryPlays>, found: Found, check = false): HostContext<any> {
  const resultOf = (host: string, t: Task<unknown>) => {
    const f = found[host];
    if (!f) return undefined;
    if (t === built.tasks.source) return { set: '20261207_020000', dir: `/srv/backup/20261207_020000`, origin: 'own', originHost: host, manifest: { items: f.items } };
    if (t === built.tasks.found) return { found: f.found };
    return undefined;
  };
  return { name, check, vars: { postgres_pitr: pitr }, resultOf, hostVars: () => ({ postgres_pitr: pitr }), groupHosts: () => [] } as unknown as HostContext<any>;
}

const asideTask = (built: ReturnType<typeof recoveryPlays>) => {
  const play = built.plays.find((p) => p.options.hosts === pitr.archive_host && p.tasks.some((t) => (t as Task<unknown>).name === 'old archive kept aside'));
  assert.ok(play, `no play moves the old archive aside: ${built.plays.map((p) => p.name).join(', ')}`);
  return play.tasks.find((t) => (t as Task<unknown>).name === 'old archive kept aside') as Task<unknown>;
};
const asides = (built: ReturnType<typeof recoveryPlays>, found: Found) => {
  const t = asideTask(built);
  const h = hostOf(pitr.archive_host, built, found);
  return typeof t.options.when === 'function' ? t.options.when(h) : true;
};

test('with postgres_pitr, the recovery starts the archiver on both hosts after health', () => {
  const built = recoveryPlays({ backupHosts: ['data', 'ai'], set: 'latest', offsite: false, force: false, pitr });
  const names = built.plays.map((p) => p.name);
  const archive = built.plays.find((p) => p.options.roles?.some((r) => r.name === 'pitr'));
  assert.ok(archive, `no play runs the pitr role: ${names.join(', ')}`);
  assert.equal(archive.options.hosts, 'data:ai');
  assert.equal(archive.options.haltOnFailure, true);
  assert.ok(names.indexOf(archive.name) > names.indexOf('health'), 'after the health play');
  const aside = built.plays.findIndex((p) => p.tasks.includes(asideTask(built)));
  assert.ok(aside > names.indexOf('health') && aside < names.indexOf(archive.name), 'the aside after health, before the archiver starts');
  // Without postgres_pitr: no such play.
  const none = recoveryPlays({ backupHosts: ['data', 'ai'], set: 'latest', offsite: false, force: false });
  assert.ok(!none.plays.some((p) => p.options.roles?.some((r) => r.name === 'pitr')));
});

test("the old archive is moved aside only when the database host's databases were restored", () => {
  const built = recoveryPlays({ backupHosts: ['data', 'ai'], set: 'latest', offsite: false, force: false, pitr });
  // The NAS lost its disk: its database restored from the dump, a new cluster.
  assert.equal(asides(built, { data: { items: [DB], found: [] }, ai: { items: [VOL], found: ['models'] } }), true);
  // Only ai lost its data: the NAS kept its database, the archive still follows it.
  assert.equal(asides(built, { data: { items: [DB], found: ['gateway'] }, ai: { items: [VOL], found: [] } }), false);
  // --force restores everything, the database too.
  const forced = recoveryPlays({ backupHosts: ['data', 'ai'], set: 'latest', offsite: false, force: true, pitr });
  assert.equal(asides(forced, { data: { items: [DB], found: ['gateway'] }, ai: { items: [VOL], found: ['models'] } }), true);
  // No database in any set (check mode before a pull, or none backed up): nothing restored, nothing moved.
  assert.equal(asides(built, {}), false);
});

test("only the database host's restore of the PITR server's own database moves the archive aside", () => {
  const WIKI = { kind: 'postgres', name: 'wiki', service: 'wiki_postgres', file: 'wiki.dump' };
  const built = recoveryPlays({ backupHosts: ['data', 'other'], set: 'latest', offsite: false, force: false, pitr });
  // data runs gateway_postgres (the PITR server) and kept it; other lost wiki_postgres and restores it:
  // the PITR server is the same cluster, its archive still follows it.
  assert.equal(asides(built, { data: { items: [DB], found: ['gateway'] }, other: { items: [WIKI], found: [] } }), false);
  // The database host restored only another service's database: the PITR server was not restored.
  assert.equal(asides(built, { data: { items: [WIKI], found: [] }, other: { items: [DB], found: ['gateway'] } }), false);
  // The database host restored the PITR server's database: a new cluster.
  assert.equal(asides(built, { data: { items: [DB, WIKI], found: [] }, other: { items: [VOL], found: ['models'] } }), true);
});

test('archiving not started again: the report sends the operator back to the recovery, not to backup.ts', () => {
  // After a restore, backup.ts would start the archiver over the old cluster's wal/ (nothing moves it aside);
  // the recovery run again resumes, moves the old archive aside and starts archiving.
  const lines = pitrAgainReport(pitr, false, undefined, false).join('\n');
  assert.match(lines, /NOT started again/);
  assert.match(lines, /disaster-recovery\.ts --from .* again/);
  assert.doesNotMatch(lines, /backup\.ts once/);
  // Started: no such advice.
  assert.doesNotMatch(pitrAgainReport(pitr, true, undefined, false).join('\n'), /disaster-recovery\.ts/);
});
