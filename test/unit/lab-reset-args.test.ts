import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseResetArgs } from '../../scripts/lab/reset-args.ts';

// `lab.ts reset`'s arguments: which nodes are recreated and whether their
// backup volumes go too (the lab test drives the real resets).

test('reset alone takes the four nodes and keeps their backup volumes; --all wipes them', () => {
  assert.deepEqual(parseResetArgs([]), { kind: 'nodes', names: ['gateway', 'ai', 'data', 'cicd'], wipeBackups: false });
  assert.deepEqual(parseResetArgs(['--all']), { kind: 'nodes', names: ['gateway', 'ai', 'data', 'cicd'], wipeBackups: true });
});

test('named nodes: only those, in the lab order, each once; with --all their backup volumes too', () => {
  assert.deepEqual(parseResetArgs(['--all', 'ai']), { kind: 'nodes', names: ['ai'], wipeBackups: true });
  assert.deepEqual(parseResetArgs(['ai', '--all']), { kind: 'nodes', names: ['ai'], wipeBackups: true });
  assert.deepEqual(parseResetArgs(['cicd', 'gateway', 'cicd']), { kind: 'nodes', names: ['gateway', 'cicd'], wipeBackups: false });
});

test('an unknown node, option or a layouts host among the nodes is refused, naming the accepted ones', () => {
  assert.throws(() => parseResetArgs(['--all', 'nas']), /no lab node named nas \(the nodes: gateway, ai, data, cicd\)/);
  assert.throws(() => parseResetArgs(['ai', 'core']), /no lab node named core/);
  assert.throws(() => parseResetArgs(['--al', 'ai']), /unknown option --al/);
  assert.throws(() => parseResetArgs(['--layouts', '--all']), /--all is for the Swarm nodes/);
});

test('--layouts takes the layouts hosts only: those named, else all three', () => {
  assert.deepEqual(parseResetArgs(['--layouts']), { kind: 'layouts', names: [] });
  assert.deepEqual(parseResetArgs(['--layouts', 'single', 'core']), { kind: 'layouts', names: ['core', 'single'] });
  assert.throws(() => parseResetArgs(['--layouts', 'ai']), /no layouts' host named ai \(reset --layouts takes core, edge, single\)/);
});

test('lab.ts reset refuses an unknown node before touching anything, with exit code 4', () => {
  // No Docker call happens for a refused request: this runs wherever the unit tests do.
  const r = spawnSync('node_modules/.bin/tsx', ['scripts/lab.ts', 'reset', '--all', 'nas'], { encoding: 'utf8' });
  assert.equal(r.status, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /lab: reset: no lab node named nas \(the nodes: gateway, ai, data, cicd\)/);
  assert.equal(r.stdout, '');
});
