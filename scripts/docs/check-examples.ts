// Compiles every TypeScript example of the manual, as a user's project would:
// each TypeScript block (```ts, ```TypeScript, ```tsx...) of README.md and docs/*.md is written to its own module
// (scripts/docs/extract-examples.ts) under build/doc-examples/, and tsc checks
// them with this repository's compiler options, `rigger-ops` mapped to
// lib/index.ts. An error is reported at its markdown line:
//   docs/writing-playbooks.md:42:7 error TS2353: ...
// so an example cannot drift from the API unnoticed. Run by `npm run typecheck`.
//
//   tsx scripts/docs/check-examples.ts [--root DIR] [--out DIR] [MARKDOWN...]
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeExamples, type Example } from './extract-examples.ts';

const { values, positionals } = parseArgs({ options: { root: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true });
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const root = resolve(values.root ?? repoRoot);
const outDir = resolve(values.out ?? join(repoRoot, 'build', 'doc-examples'));
const markdownFiles =
  positionals.length > 0
    ? positionals
    : ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

// Old examples of a since-edited page must not linger and be checked again.
rmSync(outDir, { recursive: true, force: true });
const { written, noCheck } = writeExamples(root, markdownFiles, outDir);
const counts = `${written.length} compiled, ${noCheck} no-check`;
// Nothing to compile means the check checks nothing: a wrong root, a renamed
// docs folder or a fence the extractor no longer sees would pass silently.
if (written.length === 0) {
  console.error(`no TypeScript example to compile in ${markdownFiles.length} markdown files (${counts})`);
  process.exit(1);
}

// The repository's compiler options (strict and the rest), only these files.
const tsconfigPath = join(outDir, 'tsconfig.json');
writeFileSync(
  tsconfigPath,
  JSON.stringify(
    {
      extends: join(repoRoot, 'tsconfig.json'),
      compilerOptions: {
        // Relative to the repository, wherever outDir is (a scratch folder in
        // the checker's own test).
        paths: { 'rigger-ops': [join(repoRoot, 'lib/index.ts')], 'rigger-ops/lib/*': [join(repoRoot, 'lib/*.ts')] },
        typeRoots: [join(repoRoot, 'node_modules/@types')],
        // Every example is a module of its own, even one without an import,
        // so two examples declaring the same name do not collide.
        moduleDetection: 'force',
      },
      include: [],
      files: written.map((w) => w.path),
    },
    null,
    2,
  ),
);

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', tsconfigPath], { encoding: 'utf8' });
const byFile = new Map<string, Example>(written.map((w) => [resolve(w.path), w.example]));

// tsc prints `PATH(LINE,COL): error TS...: message`; a generated example's
// position becomes its markdown file's, anything else is passed on as is.
const output = `${result.stdout}${result.stderr}`;
const told = output.replace(/^(.+?)\((\d+),(\d+)\): /gm, (whole, path: string, line: string, col: string) => {
  const example = byFile.get(resolve(outDir, path)) ?? byFile.get(resolve(path));
  if (!example) return whole;
  return `${example.markdown}:${example.line + Number(line) - 1}:${col} `;
});
if (result.status !== 0) {
  process.stderr.write(told);
  process.stderr.write(`\nThe manual's examples do not compile (${written.length} checked; generated files in ${relative(process.cwd(), outDir) || basename(outDir)}).\n`);
  process.exit(1);
}
console.log(`${written.length} TypeScript examples of the manual compile (${counts})`);
