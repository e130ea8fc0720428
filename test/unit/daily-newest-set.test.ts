// The daily check's copy reading starts from the host's newest published set.
// The set script writes manifest.json inside STAMP.partial before the rename
// that publishes it, so a set being written (or one a killed run left) must
// not count: its copy cannot exist yet, and the check would FAIL falsely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newestSetCommand } from '../../lib/daily/ops/checks.ts';

test('the newest set is the newest published one: a STAMP.partial holding its manifest is not', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'newest-set-'));
  try {
    for (const d of ['20261205_020000', '20261206_020000', '20261207_020000.partial']) {
      mkdirSync(path.join(root, d));
      writeFileSync(path.join(root, d, 'manifest.json'), '{}');
    }
    mkdirSync(path.join(root, '20261208_020000')); // no manifest: never published
    const out = execFileSync('bash', ['-c', newestSetCommand(root).bytes.toString('utf8')], { encoding: 'utf8' });
    assert.equal(out.trim(), '@@set 20261206_020000');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
