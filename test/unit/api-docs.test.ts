// `npm run docs` fails on any TypeDoc warning: the repository's typedoc.json
// run over a scratch module whose doc comment links to a name that does not
// exist, and whose exported function names a type the module does not
// export. Both must fail the build (exit non-zero, each warning named); the
// same module without them must build. If typedoc.json stopped treating
// warnings as errors, the broken module would build and this test fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const typedoc = join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
const scratch = mkdtempSync(join(tmpdir(), 'rigger-api-docs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function build(source: string, intentionallyNotExported: string[] = []): { status: number | null; output: string } {
  const dir = mkdtempSync(join(scratch, 'pkg-'));
  writeFileSync(join(dir, 'index.ts'), source);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', target: 'ES2022', noEmit: true }, files: ['index.ts'] }));
  // A scratch options file that extends the repository's, so the build runs
  // with every setting of typedoc.json but this module's entry point and
  // program (TypeDoc reads the tsconfig named in the options file, not one
  // given on the command line beside it). The list of lib's intentionally
  // unexported types is emptied: TypeDoc warns about names it never met.
  writeFileSync(
    join(dir, 'typedoc.json'),
    JSON.stringify({ extends: [join(repoRoot, 'typedoc.json')], entryPoints: [join(dir, 'index.ts')], tsconfig: join(dir, 'tsconfig.json'), out: join(dir, 'api'), intentionallyNotExported }),
  );
  const r = spawnSync(process.execPath, [typedoc, '--options', join(dir, 'typedoc.json')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const good = "/** A greeting. */\nexport interface Greeting { text: string }\n\n/** Says hello; see {@link Greeting}. */\nexport function hello(): Greeting { return { text: 'hello' }; }\n";

test('a module whose types are all exported and whose links resolve builds', () => {
  const r = build(good);
  assert.equal(r.status, 0, r.output);
  assert.doesNotMatch(r.output, /warning/);
});

test('a link to nothing fails the build, naming it', () => {
  const r = build(good.replace('{@link Greeting}', '{@link NoSuchThing}'));
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /warning.*NoSuchThing/);
});

test('a public signature naming a type the package does not export fails the build, naming it', () => {
  const r = build(good.replace('export interface Greeting', 'interface Greeting'));
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /warning.*Greeting.*not included in the documentation/);
});

test("typedoc.json's unexported op types name their file, so a type of the same name elsewhere still fails the build", () => {
  // typedoc.json is JSON with // comments.
  const config = JSON.parse(readFileSync(join(repoRoot, 'typedoc.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { intentionallyNotExported: string[] };
  const entries = config.intentionallyNotExported;
  assert.ok(entries.length > 0);
  for (const entry of entries) assert.match(entry, /^lib\/.+\.ts:\w+$/, `${entry}: a bare name silences every type of that name`);
  // The scratch module's own unexported Params (as in the test above), under
  // the entries that name a Params: none of them is this file's, so it warns.
  const params = entries.filter((e) => e.endsWith(':Params'));
  const r = build(good.replaceAll('Greeting', 'Params').replace('export interface Params', 'interface Params'), params);
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /warning.*Params.*not included in the documentation/);
});
