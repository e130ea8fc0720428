import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { HOMELAB_VAULT_PASSWORD, HOST_OF, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { convergedRehearsal, onRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { backupVarsOf } from '../helpers/cluster-data.ts';
import type { BackupVars } from '../../lib/backup/config.ts';

// Issue 30, acceptance 1, on the rehearsal of the real cluster: backup.ts
// writes every node's set on its own disk and a verified copy on its copy
// host (homelab.yml sets no backup_copy_to: the NAS stand-in, which has
// backup_offsite, for the other nodes; the next backup host in inventory
// order, cicd, for the NAS's own sets); --list shows both copies; a byte
// flipped in the copy of a newest set is reported by --list and fails the
// daily check; the next backup.ts repairs it (it re-checks the two newest
// copies by sha256 and replaces a damaged one). Every set and copy this
// suite made is removed in after(): the rehearsal is left as found.

let inv: string;
let hosts: Map<string, BackupVars>;
const nodeOf = (h: string) => HOST_OF[h]!;
/** Where each host's copies go on the rehearsal (docs/backups.md: the default copy host). */
const COPY_HOST: Record<string, string> = {
  'gateway.vibe.local': 'data.vibe.local',
  'ai.vibe.local': 'data.vibe.local',
  'cicd.vibe.local': 'data.vibe.local',
  'data.vibe.local': 'cicd.vibe.local',
};
/** Each host's sets before this suite, to remove only what it made. */
const setsBefore = new Map<string, string[]>();

const setsIn = async (host: string, dir: string) =>
  (await onNode(inv, nodeOf(host), sh`cd -- ${dir} 2>/dev/null && for d in [0-9]*_[0-9]*; do [ -f "$d/manifest.json" ] && echo "$d"; done; true`)).stdout.split('\n').filter(Boolean).sort();
const copiesOf = (host: string) => `${hosts.get(COPY_HOST[host]!)!.backup_root}/copies/${host}`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

before(async () => {
  inv = await convergedRehearsal();
  hosts = await backupVarsOf(REHEARSAL_INVENTORY, HOMELAB_VAULT_PASSWORD);
  for (const h of hosts.keys()) setsBefore.set(h, await setsIn(h, hosts.get(h)!.backup_root));
});

after(async () => {
  // The sets this suite took, and every copy (the suites before made none).
  for (const [h, v] of hosts ?? []) {
    const made = (await setsIn(h, v.backup_root)).filter((s) => !setsBefore.get(h)!.includes(s));
    if (made.length) await onNode(inv, nodeOf(h), sh`cd -- ${v.backup_root} && rm -rf -- ${made}`);
    await onNode(inv, nodeOf(COPY_HOST[h]!), sh`rm -rf -- ${copiesOf(h)}`);
  }
  for (const c of new Set(Object.values(COPY_HOST))) await onNode(inv, nodeOf(c), sh`rmdir -- ${`${hosts.get(c)!.backup_root}/copies`} 2>/dev/null; true`);
});

test('backup.ts: every node\'s set on its own disk and a verified copy on its copy host; --list shows both; a damaged copy fails the daily check until the next backup repairs it', async () => {
  assert.deepEqual([...hosts.keys()].sort(), Object.keys(COPY_HOST).sort());
  const first = await onRehearsal('playbooks/backup.ts', [], 20 * 60_000);
  assert.equal(first.code, 0, `backup.ts:\n${first.stdout}\n${first.stderr}`);

  const newest = new Map<string, string>();
  for (const [h, v] of hosts) {
    const m = new RegExp(`^${esc(h)}: set (\\d{8}_\\d{6}), (\\d+) items verified.*\\n  copy: (\\d+) sets verified on ${esc(COPY_HOST[h]!)} in copies/${esc(h)}`, 'm').exec(first.stdout);
    assert.ok(m, `${h}: its set and where its copy went:\n${first.stdout}`);
    const set = m[1]!;
    newest.set(h, set);
    // The copy on the copy host holds every item of the set, byte for byte.
    const sums = async (host: string, dir: string) => (await onNode(inv, nodeOf(host), sh`cd -- ${dir} && sha256sum -- *`)).stdout;
    const own = await sums(h, `${v.backup_root}/${set}`);
    assert.ok(own.includes('manifest.json'));
    assert.equal(await sums(COPY_HOST[h]!, `${copiesOf(h)}/${set}`), own, `${h}'s set ${set} on ${COPY_HOST[h]}`);
    assert.ok(!(await setsIn(h, v.backup_root)).includes('copies'), 'copies/ is never counted among the own sets');
  }

  const list = await onRehearsal('playbooks/backup.ts', ['--list']);
  assert.equal(list.code, 0, list.stdout + list.stderr);
  for (const [h, set] of newest) {
    // The host's block of the report: from its header to the next host's.
    const start = list.stdout.indexOf(`${h}: `);
    const ends = [...hosts.keys()].map((o) => list.stdout.indexOf(`\n\n${o}: `, start)).filter((i) => i > start);
    const section = list.stdout.slice(start, ends.length ? Math.min(...ends) : undefined);
    assert.match(section, new RegExp(`^${set} +verified .*verified on ${esc(COPY_HOST[h]!)}`, 'm'), `${h}: both copies of ${set}`);
  }

  // A byte flipped in the copy of ai's newest set (its size unchanged): --list and the daily check see it.
  const ai = 'ai.vibe.local';
  const damagedFile = `${copiesOf(ai)}/${newest.get(ai)!}/config-etc.tar`;
  const flip = sh`f=${damagedFile}; b=$(dd if="$f" bs=1 skip=600 count=1 2>/dev/null | od -An -tu1 | tr -d ' '); n=$(( (b + 1) % 256 )); printf "\\$(printf %03o "$n")" | dd of="$f" bs=1 seek=600 conv=notrunc 2>/dev/null`;
  const flipped = await onNode(inv, nodeOf(COPY_HOST[ai]!), flip);
  assert.equal(flipped.code, 0, flipped.stderr);
  const damaged = await onRehearsal('playbooks/backup.ts', ['--list']);
  assert.match(damaged.stdout, new RegExp(`^${newest.get(ai)} +verified .*DAMAGED on data\\.vibe\\.local: config-etc\\.tar's sha256 differs`, 'm'), damaged.stdout);
  assert.match(damaged.stdout, /checked: manifest, every file's presence and size; for the newest set \(\d{8}_\d{6}\) every file's sha256 too/);
  const daily = await onRehearsal('playbooks/daily-check.ts', ['-e', '{"daily_tls_endpoints": []}']);
  assert.equal(daily.code, 2, `the daily check fails:\n${daily.stdout}`);
  assert.match(daily.stdout, new RegExp(`^FAIL +backup copy +ai\\.vibe\\.local +newest set ${newest.get(ai)}: its copy on data\\.vibe\\.local is damaged`, 'm'));

  // The next backup.ts re-checks the previous newest copy by sha256 and replaces it: repaired.
  const again = await onRehearsal('playbooks/backup.ts', [], 20 * 60_000);
  assert.equal(again.code, 0, `backup.ts:\n${again.stdout}\n${again.stderr}`);
  const repaired = await onNode(inv, nodeOf(COPY_HOST[ai]!), sh`sha256sum -- ${damagedFile}`);
  const original = await onNode(inv, nodeOf(ai), sh`sha256sum -- ${`${hosts.get(ai)!.backup_root}/${newest.get(ai)!}/config-etc.tar`}`);
  assert.equal(repaired.stdout.split(' ')[0], original.stdout.split(' ')[0], 'the damaged copy was replaced by a verified one');
  const clean = await onRehearsal('playbooks/backup.ts', ['--list']);
  assert.doesNotMatch(clean.stdout, /DAMAGED|MISSING/, clean.stdout);
  const dailyAfter = await onRehearsal('playbooks/daily-check.ts', ['-e', '{"daily_tls_endpoints": []}']);
  assert.doesNotMatch(dailyAfter.stdout, /^FAIL +backup copy/m, dailyAfter.stdout);
  for (const h of hosts.keys()) assert.match(dailyAfter.stdout, new RegExp(`^PASS +backup copy +${esc(h)} +newest set \\d{8}_\\d{6} verified on ${esc(COPY_HOST[h]!)}`, 'm'));
});
