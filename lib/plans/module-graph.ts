import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The project files a playbook loads: the playbook and every module it
 * imports, followed through relative imports (`import`, `export ... from`,
 * `import()` with a literal path). Every one of them can decide what a task
 * does or which commands it sends (an op module that declares no task, a
 * helper that builds content), so a plan digests them all. Packages
 * (node_modules, bare specifiers) are not walked: what they are is fixed
 * by the lockfile and rigger's own version, which the plan digests instead.
 * A static walk and not the loader's own list: Node keeps no list of the
 * ES modules it loaded, and one read from the source is the same at plan
 * and at apply.
 */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"\n]+|\/[^'"\n]+)\1/g;
const TRY = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts', '/index.js'];

function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), spec);
  // A .js specifier of a .ts file, as TypeScript's NodeNext style writes it.
  const candidates = [...TRY.map((ext) => base + ext), base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts')];
  return candidates.find((f) => existsSync(f) && statSync(f).isFile());
}

export function moduleGraph(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = entries.map((e) => path.resolve(e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || /[\\/]node_modules[\\/]/.test(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const next = resolveImport(file, m[2]!);
      if (next && !seen.has(next)) queue.push(next);
    }
  }
  return [...seen];
}

/** rigger's own version: another rigger may decide or send something else for the same task. */
export function riggerVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };
  return `${pkg.name}@${pkg.version}`;
}

/** The lockfile of the project the playbook is in (the nearest package-lock.json above it): what its packages are. */
export function lockfileOf(playbook: string): string | undefined {
  let dir = path.dirname(path.resolve(playbook));
  for (;;) {
    const f = path.join(dir, 'package-lock.json');
    if (existsSync(f)) return f;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
