// Part of `npm run build`: zod and yaml, each bundled into one CommonJS file
// in dist/vendor/ (lib/shell/vendor.ts says why). Their licences go with them.
import { copyFileSync, mkdirSync } from 'node:fs';
import { buildSync } from 'esbuild';

mkdirSync('dist/vendor', { recursive: true });
for (const [name, entry] of [['zod', 'node_modules/zod/index.cjs'], ['yaml', 'node_modules/yaml/dist/index.js']] as const) {
  buildSync({ entryPoints: [entry], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: `dist/vendor/${name}.cjs`, minifySyntax: true, minifyWhitespace: true, legalComments: 'inline', logLevel: 'error' });
  copyFileSync(`node_modules/${name}/LICENSE`, `dist/vendor/${name}.LICENSE`);
}
