import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupFinding, certFinding, nodeFindings, serviceFindings, swarmNodeFindings } from '../../lib/daily/findings.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const level = (fs: { subject: string; level: string }[], subject: string) => fs.find((f) => f.subject === subject)?.level;

test('disk use per mount: pass under 80 %, warn from 80 %, fail from 85 %; pseudo and runtime mounts are left out', () => {
  const text = '@@df\n/ overlay 31%\n/srv ext4 80%\n/mnt/fill tmpfs 90%\n/proc proc 0%\n/run tmpfs 99%\n/dev/shm tmpfs 99%\n@@mem\nMemTotal: 2000000\nMemAvailable: 100000\n@@load\n0.50 0.40 0.30\n2\n@@jcount 2\n@@journal\n      2 sshd[1]: error: x\n';
  const f = nodeFindings('data', text);
  assert.equal(level(f, 'data:/'), 'pass');
  assert.equal(level(f, 'data:/srv'), 'warn');
  assert.equal(level(f, 'data:/mnt/fill'), 'fail');
  assert.equal(f.filter((x) => x.area === 'disk').length, 3);
  assert.equal(f.find((x) => x.area === 'memory')!.level, 'warn', '5 % available');
  assert.match(f.find((x) => x.area === 'journal')!.detail, /2 errors in 24 h; top: 2 sshd\[1\]: error: x/);
});

test('a service scaled to 0 or short of replicas fails; failed tasks of the last 24 h count as restarts', () => {
  const f = serviceFindings(
    ['lab_web replicated 2/2', 'lab_files replicated 0/0', 'lab_db replicated 0/1', 'agent global 3/3'],
    [`lab_web failed ${new Date(NOW - 3600_000).toISOString()}`, `lab_web failed ${new Date(NOW - 2 * 86400_000).toISOString()}`, `lab_web running ${new Date(NOW).toISOString()}`],
    NOW,
  );
  assert.equal(level(f, 'lab_web'), 'warn');
  assert.match(f.find((x) => x.subject === 'lab_web')!.detail, /1 restarts in 24 h/);
  assert.equal(level(f, 'lab_files'), 'fail');
  assert.match(f.find((x) => x.subject === 'lab_files')!.detail, /scaled to 0/);
  assert.equal(level(f, 'lab_db'), 'fail');
  assert.equal(level(f, 'agent'), 'pass');
});

test('swarm nodes: not Ready fails, drained or paused warns', () => {
  const f = swarmNodeFindings(['gateway Ready Active', 'ai Ready Drain', 'data Down Active']);
  assert.deepEqual(f.map((x) => x.level), ['pass', 'warn', 'fail']);
});

test('certificates warn under 30 days and fail when expired or unread; the backup fails over 26 h or with no set', () => {
  assert.equal(certFinding('a:443', 'Dec 10 00:00:00 2026 GMT', NOW).level, 'warn');
  assert.equal(certFinding('a:443', 'Dec 10 00:00:00 2027 GMT', NOW).level, 'pass');
  assert.equal(certFinding('a:443', 'Nov 10 00:00:00 2026 GMT', NOW).level, 'fail');
  assert.equal(certFinding('a:443', undefined, NOW).level, 'fail');
  assert.equal(backupFinding('data', '20261126_020000', '2026-11-26T02:00:00+00:00', NOW).level, 'pass');
  assert.equal(backupFinding('data', '20261125_020000', '2026-11-25T08:00:00+00:00', NOW).level, 'fail');
  assert.equal(backupFinding('data', undefined, undefined, NOW).level, 'fail');
});
