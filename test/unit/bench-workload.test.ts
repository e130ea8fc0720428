import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { ansiblePlaybook, convergeScript, workload } from '../../scripts/bench/workload.ts';

// The benchmark's tools must do the same work: the generated Ansible play has
// one task per workload item, and the floor's script converges a real
// directory tree to the same shape the spec describes.
test('one workload spec drives every tool', () => {
  const items = workload(20);
  assert.deepEqual(items.slice(0, 7).map((i) => i.kind), ['directory', 'copy', 'line', 'symlink', 'mode', 'command', 'template']);
  const play = parse(ansiblePlaybook(20, '/t.j2')) as { tasks: Record<string, unknown>[] }[];
  assert.equal(play[0]!.tasks.length, 20);
  assert.deepEqual(Object.keys(play[0]!.tasks[5]!).sort(), ['args', 'command']);
  const root = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const script = convergeScript(10, 'h1').replaceAll('/srv/bench', root);
  execFileSync('sh', ['-c', script]);
  execFileSync('sh', ['-c', script]);
  assert.deepEqual(readdirSync(path.join(root, 'g0')).sort(), ['c.txt', 'cmd.done', 'lines.txt', 'link', 't.conf']);
  assert.equal(readFileSync(path.join(root, 'g0', 'lines.txt'), 'utf8'), 'key0=value0\n', 'the line is added once, also on the second run');
  assert.equal(readFileSync(path.join(root, 'g0', 't.conf'), 'utf8'), 'name=h1 index=0\n');
});
