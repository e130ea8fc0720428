import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
/** Compiled (dist/*.js), not run from source (lib/*.ts) by tsx. */
const COMPILED = !import.meta.url.endsWith('.ts');

/**
 * A CommonJS dependency, as one file in the package: zod's build is about 95
 * files and yaml's about 72, and resolving, reading and compiling each one
 * costs more at every start than the code itself (together about 90 ms
 * against 50 ms as one file each, on the 2-core test machine).
 * scripts/build-vendor.ts bundles them into dist/vendor/NAME.cjs at build
 * time, the same versions as in node_modules; run from source, the package
 * itself is loaded.
 */
export function vendored<T>(name: 'zod' | 'yaml'): T {
  return (COMPILED ? load(`../vendor/${name}.cjs`) : load(name)) as T;
}
