import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiff } from '../../lib/ui/diff-format.ts';
import { makeChalk } from '../../lib/ui/style.ts';
import { jsonChanges } from '../../lib/shell/diff.ts';
import { Secret, redactDeep } from '../../lib/shell/secret.ts';

const plain = makeChalk(false);

test('a text diff is unified and shows exactly the changed lines', () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const after = before.replace('line 10\n', 'line ten\n');
  const lines = formatDiff({ kind: 'text', path: '/etc/x.conf', before, after }, plain);
  assert.equal(lines[0], '--- /etc/x.conf (before)');
  assert.equal(lines[1], '+++ /etc/x.conf (after)');
  assert.deepEqual(lines.filter((l) => /^[-+][^-+]/.test(l)), ['-line 10', '+line ten']);
  assert.ok(lines.some((l) => l.startsWith('@@ -8,7 +8,7 @@')));
});

test('a JSON diff lists changed paths: desired keys added or changed, others untouched', () => {
  const before = { 'log-level': 'info', runtimes: { runc: { path: 'runc' } }, 'data-root': '/var/lib/docker' };
  const after = { 'log-level': 'debug', runtimes: { runc: { path: 'runc' }, nvidia: { path: 'nvidia-container-runtime' } }, 'data-root': '/var/lib/docker' };
  assert.deepEqual(jsonChanges(before, after), [
    { path: 'log-level', op: 'change', before: 'info', after: 'debug' },
    { path: 'runtimes.nvidia', op: 'add', after: { path: 'nvidia-container-runtime' } },
  ]);
  const lines = formatDiff({ kind: 'json', path: '/etc/docker/daemon.json', before, after }, plain);
  assert.deepEqual(lines, ['--- /etc/docker/daemon.json', '~ log-level: "info" -> "debug"', '+ runtimes.nvidia: {"path":"nvidia-container-runtime"}']);
});

test('a secret inside diff content is shown as *** once redacted', () => {
  const s = new Secret('pw-in-diff-123');
  const diff = redactDeep({ kind: 'text' as const, path: '/x', before: '', after: `password=${s.reveal()}\n` });
  const lines = formatDiff(diff, plain);
  assert.ok(lines.includes('+password=***'));
  assert.ok(!lines.join('\n').includes('pw-in-diff-123'));
});
