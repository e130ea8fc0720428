// The manual's example check (scripts/docs/check-examples.ts) run on a scratch
// markdown tree: a good example passes, a drifted one fails naming its
// markdown file and line, and a block marked no-check is left out. If the
// checker stopped compiling the examples, the drifted one would pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const checker = fileURLToPath(new URL('../../scripts/docs/check-examples.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rigger-doc-examples-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function check(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(scratch, 'tree-'));
  mkdirSync(join(root, 'docs'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  const r = spawnSync(process.execPath, ['--import', 'tsx', checker, '--root', root, '--out', join(root, 'out'), ...Object.keys(files)], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const good = [
  "import { definePlay, ops } from 'rigger-ops';",
  '',
  "export const play = definePlay({ name: 'p', hosts: 'all', tasks: ({ task }) => [task({ name: 'motd', op: ops.copy({ path: '/etc/motd', content: 'hi' }) })] });",
  '',
].join('\n');

test('an example that compiles against the package passes', () => {
  const r = check({ 'docs/page.md': `# Page\n\n\`\`\`ts\n${good}\`\`\`\n` });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /1 TypeScript examples of the manual compile/);
});

test('an example that no longer matches the API fails, naming the markdown file and line', () => {
  // Line 1 '# Page', 2 blank, 3 prose, 4 blank, 5 the fence, 6 the import,
  // 7 blank, 8 the call with a parameter ops.copy does not have.
  const page = [
    '# Page',
    '',
    'Some prose.',
    '',
    '```typescript',
    "import { ops } from 'rigger-ops';",
    '',
    "export const op = ops.copy({ path: '/etc/motd', content: 'hi', colour: 'blue' });",
    '```',
    '',
  ].join('\n');
  const r = check({ 'README.md': `# Readme\n\n\`\`\`ts\n${good}\`\`\`\n`, 'docs/page.md': page });
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /^docs\/page\.md:8:\d+ error TS\d+:.*colour/m);
  // The good README example is not blamed.
  assert.doesNotMatch(r.output, /README\.md:\d+/);
});

test('a block fenced as ts no-check is not compiled; other fences are not TypeScript', () => {
  const r = check({
    'docs/page.md': `# Page\n\n\`\`\`ts no-check\nthis is not TypeScript\n\`\`\`\n\n\`\`\`sh\nnot ts either\n\`\`\`\n\n\`\`\`ts\n${good}\`\`\`\n`,
  });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /1 TypeScript examples of the manual compile/);
});

test('blocks fenced TypeScript, tsx or mts, in any case, are compiled too, and the no-check ones are counted', () => {
  const broken = "import { ops } from 'rigger-ops';\n\nexport const op = ops.copy({ path: '/etc/motd', content: 'hi', colour: 'blue' });\n";
  for (const info of ['TypeScript', 'TS', 'tsx', 'mts']) {
    const r = check({ 'docs/page.md': `# Page\n\n\`\`\`${info}\n${broken}\`\`\`\n` });
    assert.equal(r.status, 1, `${info}: ${r.output}`);
    assert.match(r.output, /^docs\/page\.md:6:\d+ error TS\d+:.*colour/m, info);
  }
  const r = check({ 'docs/page.md': `# Page\n\n\`\`\`ts no-check\nfragment\n\`\`\`\n\n\`\`\`ts\n${good}\`\`\`\n` });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /\b1 compiled, 1 no-check\b/);
});

test('a manual with no TypeScript example to compile fails: the check would check nothing', () => {
  const r = check({ 'docs/page.md': '# Page\n\n```sh\necho hi\n```\n\n```ts no-check\nfragment\n```\n' });
  assert.equal(r.status, 1, r.output);
  assert.match(r.output, /0 compiled, 1 no-check/);
});
