// The manual's link check (scripts/docs/check-links.ts) run on a scratch
// markdown tree: links to files and headings that exist pass (GitHub's slugs,
// a link from docs/ back up to README), a missing file, a missing heading and
// a missing heading in another file each fail naming file:line, and an
// external link is never fetched (it points at an address nothing answers).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const checker = fileURLToPath(new URL('../../scripts/docs/check-links.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rigger-doc-links-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(scratch, 'tree-'));
  mkdirSync(join(root, 'docs'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  const r = spawnSync(process.execPath, ['--import', 'tsx', checker, '--root', root], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const page = '# Writing playbooks\n\n## Handlers and `notify`\n\nBack to [the start](../README.md#quick-start).\n';

test('links to files and headings that exist pass, and an external link is not fetched', () => {
  const r = check({
    'README.md': '# rigger\n\n## Quick start\n\n[Handlers](docs/page.md#handlers-and-notify) and [the page](docs/page.md), [here](#quick-start), [away](http://127.0.0.1:9/nothing-listens).\n',
    'docs/page.md': page,
  });
  assert.equal(r.status, 0, r.output);
});

test('a missing file, a missing heading and a missing heading in another file fail, each named with its line', () => {
  const readme = [
    '# rigger',
    '',
    '[gone](docs/no-such-page.md)',
    '[here](#no-such-heading)',
    '[there](docs/page.md#no-such-section)',
    '[fine](docs/page.md#writing-playbooks)',
    '',
  ].join('\n');
  const r = check({ 'README.md': readme, 'docs/page.md': page });
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /README\.md/);
  assert.match(r.output, /^\s*3:\d+-3:\d+\s+warning\s+Cannot find file `docs\/no-such-page\.md`/m);
  assert.match(r.output, /^\s*4:\d+-4:\d+\s+warning\s+Cannot find heading for `#no-such-heading`/m);
  assert.match(r.output, /^\s*5:\d+-5:\d+\s+warning\s+Cannot find heading for `#no-such-section` in `docs\/page\.md`/m);
  assert.doesNotMatch(r.output, /^\s*6:/m);
});

test('an HTML href to a missing file, a reference link with no definition and a root-absolute link fail, each with its line', () => {
  const readme = [
    '# rigger',
    '',
    '<a href="docs/nope.md">gone</a>',
    '[x][missing]',
    '[y](/docs/page.md)',
    '<a href="docs/page.md">here</a> <img src="docs/page.md"> [z][defined]',
    '',
    '[defined]: docs/page.md',
    '',
  ].join('\n');
  const r = check({ 'README.md': readme, 'docs/page.md': page });
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /^\s*3:\d+-3:\d+\s+warning\s+.*docs\/nope\.md/m);
  assert.match(r.output, /^\s*4:\d+-4:\d+\s+warning\s+.*missing/m);
  assert.match(r.output, /^\s*5:\d+-5:\d+\s+warning\s+.*\/docs\/page\.md/m);
  assert.doesNotMatch(r.output, /^\s*6:/m);
});

test('each of them alone fails the check, and the same page without it passes', () => {
  const readme = '# rigger\n\n## Quick start\n';
  assert.equal(check({ 'README.md': readme, 'docs/page.md': page }).status, 0);
  for (const line of ['<p><a href="docs/nope.md">gone</a></p>', '[x][missing]', '[y](/docs/page.md)', '<img src="../nope.png">']) {
    const r = check({ 'README.md': '# rigger\n\n## Quick start\n', 'docs/page.md': `${page}\n${line}\n` });
    assert.equal(r.status, 1, `${line}: ${r.output}`);
  }
});
