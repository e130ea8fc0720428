// A playbook as one self-contained ES module, for a host that has Node but
// no checkout of the project and no node_modules: the scheduled runner
// (lib/scheduled/) installs it there. Unlike `rigger playbook`'s cached
// bundle, which keeps packages as imports of this machine's files, every
// package is inlined here. The output is a function of the sources alone
// (paths relative to the project's root), so an unchanged project gives the
// same bytes and an install that compares checksums changes nothing.
import path from 'node:path';

/** The oldest Node the bundle must run on: Debian bookworm's nodejs package (18.19). */
export const BUNDLE_NODE_TARGET = 'node18';

/**
 * Packages the library loads at run time through createRequire (to load them
 * only when needed, or as one vendored file when compiled): a bundler cannot
 * see those calls, so the bundle's `node:module` hands them the inlined copy.
 */
const LATE_LOADED = `
import { createRequire as nodeCreateRequire } from 'node:module';
import ssh2 from 'ssh2';
import * as diff from 'diff';
import * as zod from 'zod';
import * as yaml from 'yaml';
export * from 'node:module';
const inlined = { ssh2, diff, zod, yaml, '../vendor/zod.cjs': zod, '../vendor/yaml.cjs': yaml };
export function createRequire(url) {
  const real = nodeCreateRequire(url);
  return Object.assign((id) => (Object.hasOwn(inlined, id) ? inlined[id] : real(id)), real);
}
`;

export interface Bundle {
  /** The module's text, ending with its source map's URL. */
  code: string;
  /** The source map, as a file beside it (node --enable-source-maps reads it). */
  map: string;
}

/**
 * Bundles `entry` (a path relative to `root`, the project's directory) to
 * `<outName>` and `<outName>.map`. Native addons are left out: ssh2 and its
 * optional cpu-features fall back to JavaScript without them.
 */
export async function bundleForHost(root: string, entry: string, outName: string): Promise<Bundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: BUNDLE_NODE_TARGET,
    outfile: path.join(root, outName),
    write: false,
    sourcemap: 'external',
    legalComments: 'none',
    logLevel: 'silent',
    // CommonJS packages call require() for Node's built-in modules and read __dirname; an ES module has neither.
    banner: {
      js: [
        "import { createRequire as __riggerRequire } from 'node:module';",
        "import { fileURLToPath as __riggerPath } from 'node:url';",
        'const require = __riggerRequire(import.meta.url);',
        'const __filename = __riggerPath(import.meta.url);',
        "const __dirname = __riggerPath(new URL('.', import.meta.url));",
      ].join(' '),
    },
    external: ['*.node', 'cpu-features', 'esbuild'],
    plugins: [
      {
        name: 'late-loaded-packages',
        setup(b) {
          b.onResolve({ filter: /^(node:)?module$/ }, (args) =>
            args.namespace === 'rigger-late' || args.importer.includes(`${path.sep}node_modules${path.sep}`) ? { path: 'node:module', external: true } : { path: 'late-loaded', namespace: 'rigger-late' },
          );
          b.onLoad({ filter: /.*/, namespace: 'rigger-late' }, () => ({ contents: LATE_LOADED, loader: 'js', resolveDir: root }));
        },
      },
    ],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
  return { code, map };
}
