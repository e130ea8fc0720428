import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSet } from '../../lib/recovery/ops/source.ts';
import { recoveryReportText } from '../../lib/recovery/report.ts';
import type { Listing } from '../../lib/backup/listing.ts';

const listing = (sets: [string, boolean][]): Listing => ({
  rootExists: true,
  log: [],
  availKb: 0,
  sets: sets.map(([name, published]) => ({ name, state: published ? 'published' : 'partial', sizeKb: 1, ...(published ? { manifest: { format: 1, set: name, created: '', host: 'h', bytes: 0, items: [] } } : {}) })),
});

test('a root of sets offers latest, a named set, or the nearest within the window; a partial set never', () => {
  const l = listing([['20261207_020000', true], ['20261208_020000', true], ['20261209_020000', false]]);
  assert.deepEqual(chooseSet(l, 'latest', 0), { set: '20261208_020000' });
  assert.deepEqual(chooseSet(l, '20261207_020005', 600), { set: '20261207_020000' });
  assert.match(chooseSet(l, '20261207_030000', 600).problem ?? '', /no set within 600 s/);
  assert.match(chooseSet(l, '20261209_020000', 0).problem ?? '', /not a backup/);
  assert.deepEqual(chooseSet({ ...l, rootExists: false }, 'latest', 0), { problem: 'no such directory' });
});

test('the recovery report says for each item where it came from', () => {
  const text = recoveryReportText({
    set: 'x',
    sources: [
      { host: 'ai', set: '20261207_020000', origin: 'copy', originHost: 'nas', items: ['volume-ollama', 'config-sglang'] },
      { host: 'data', set: '20261207_020001', origin: 'own', items: ['postgres-db'] },
    ],
    timings: [],
    totalSeconds: 1,
    databases: [],
    volumes: [],
    unhealthy: [],
    check: false,
  });
  const lines = text.split('\n');
  assert.ok(lines.includes('  volume-ollama (ai): set 20261207_020000 from the copy on nas'));
  assert.ok(lines.includes('  config-sglang (ai): set 20261207_020000 from the copy on nas'));
  assert.ok(lines.includes("  postgres-db (data): set 20261207_020001 from data's own disk"));
});

test('a host that held its data in a recovery of the lost hosts only is reported as kept, not as restored', () => {
  const text = recoveryReportText({
    sources: [
      { host: 'ai', set: '20261207_020000', origin: 'copy', originHost: 'nas', items: ['volume-ollama'] },
      { host: 'nas', set: '20261207_020001', origin: 'own', items: ['postgres-db'], kept: true },
    ],
    timings: [],
    totalSeconds: 1,
    databases: [],
    volumes: [],
    unhealthy: [],
    check: false,
  });
  const lines = text.split('\n');
  assert.ok(lines.includes('  volume-ollama (ai): set 20261207_020000 from the copy on nas'));
  assert.ok(lines.includes('  postgres-db (nas): kept as it is (the host holds its data; not restored)'), text);
});
