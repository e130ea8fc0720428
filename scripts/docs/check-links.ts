// The manual's link check: every relative link and #anchor in README.md and
// docs/*.md must resolve (the file exists; the heading exists under GitHub's
// slug rules). remark-validate-links does the checking; it never fetches an
// http(s) link, so the check needs no network and cannot flake on one.
// remark-lint-no-undefined-references refuses a reference link with no
// definition (`[x][missing]` renders as its literal text), and
// remark-local-links.ts refuses root-absolute links and checks raw HTML's
// href and src, which remark-validate-links does not read.
//
//   tsx scripts/docs/check-links.ts [--root DIR] [PATH...]
//
// Without arguments it checks this repository's README.md and docs/. Exits 1
// with one `file:line:col` line per broken link (remark's report on stderr).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { root: { type: 'string' } }, allowPositionals: true });
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const root = values.root ?? repoRoot;
const paths = positionals.length > 0 ? positionals : ['README.md', 'docs'];

// The plugin and the CLI come from this repository's node_modules by absolute
// path, so a scratch tree outside the repository (the checker's own test) is
// checked by the same code.
// (remark-cli exports no module path, so its script is found beside this
// repository's other packages.)
const remarkCli = join(repoRoot, 'node_modules', 'remark-cli', 'cli.js');
const validateLinks = fileURLToPath(import.meta.resolve('remark-validate-links'));
const noUndefinedReferences = fileURLToPath(import.meta.resolve('remark-lint-no-undefined-references'));
const localLinks = fileURLToPath(new URL('remark-local-links.ts', import.meta.url));
// remark-cli imports the plugins itself; tsx's loader lets it import the .ts one.
const tsxLoader = import.meta.resolve('tsx');

const result = spawnSync(
  process.execPath,
  [
    '--import',
    tsxLoader,
    remarkCli,
    '--frail', // a warning (every broken link is one) fails the run
    '--quiet', // name only the files with a problem
    '--no-stdout', // check, never print or rewrite the markdown
    '--no-config', // no .remarkrc from wherever the tree lives
    '--no-ignore',
    ...(process.stderr.isTTY ? [] : ['--no-color']), // plain lines in a log
    // repository: false, because the check is about files in the tree, not
    // links to a hosting site's URLs (and a scratch tree has no git remote).
    '--use',
    `${validateLinks}=repository:false`,
    '--use',
    noUndefinedReferences,
    '--use',
    localLinks,
    ...paths,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
