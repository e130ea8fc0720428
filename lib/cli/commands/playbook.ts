// `rigger PLAYBOOK.ts [flags]`: runs a TypeScript playbook with no tsx and no
// loader thread. The user's own files (the playbook and the roles it imports)
// are bundled once by esbuild into one ES module in a cache; packages stay
// imports, resolved here to their files, so the library loads as its compiled
// JavaScript. A later start only compares the inputs' sizes and mtimes with
// the cache's record and imports the cached module: esbuild is not even
// loaded. Source maps keep every stack frame, and so every file:line that
// rigger reports, pointing at the user's .ts lines.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../../shell/errors.ts';

interface CacheRecord {
  /** Absolute input path -> "size:mtimeMs" when the bundle was written. */
  inputs: Record<string, string>;
}

const stamp = (file: string): string | undefined => {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
};

/** One cache directory per user, as tsx does: a project directory stays clean. */
function cacheFiles(entry: string): { bundle: string; record: string } {
  const dir = path.join(tmpdir(), `rigger-${userInfo().uid}`, 'playbooks');
  const key = createHash('sha256').update(`${process.version}\0${entry}`).digest('hex').slice(0, 24);
  return { bundle: path.join(dir, `${key}.mjs`), record: path.join(dir, `${key}.json`) };
}

function fresh(recordFile: string, bundle: string): boolean {
  if (!existsSync(bundle)) return false;
  try {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as CacheRecord;
    return Object.entries(record.inputs).every(([file, s]) => stamp(file) === s);
  } catch {
    return false;
  }
}

async function build(entry: string, bundle: string, recordFile: string): Promise<void> {
  // Loaded only on a cache miss: esbuild starts a service process.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    outfile: bundle,
    sourcemap: 'inline',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'packages-as-files',
        setup(b) {
          // A package import stays an import, of the file it names from the
          // playbook's directory (the bundle lives elsewhere). Node 20 has no
          // ESM resolve from another directory, so require's resolution is
          // used: the same file for rigger-ops and any package whose exports
          // name one "default" file.
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (args.path.startsWith('node:')) return { path: args.path, external: true };
            try {
              return { path: pathToFileURL(createRequire(path.join(args.resolveDir, 'x.js')).resolve(args.path)).href, external: true };
            } catch {
              return undefined;
            }
          });
        },
      },
    ],
  });
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = path.resolve(input);
    inputs[abs] = stamp(abs) ?? '';
  }
  writeFileSync(recordFile, JSON.stringify({ inputs } satisfies CacheRecord));
}

/** Imports a TypeScript module (and the user's files it imports) through the cached bundle. */
export async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const entry = path.resolve(file);
  if (!existsSync(entry)) throw new InputError('command line', `no such file: ${file}`);
  const { bundle, record } = cacheFiles(entry);
  if (!fresh(record, bundle)) {
    mkdirSync(path.dirname(bundle), { recursive: true });
    try {
      await build(entry, bundle, record);
    } catch (err) {
      const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] }).errors;
      if (!errors?.length) throw err;
      const e = errors[0]!;
      throw new InputError(e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}` : file, e.text);
    }
  }
  process.setSourceMapsEnabled(true);
  return (await import(pathToFileURL(bundle).href)) as Record<string, unknown>;
}

export async function runPlaybookFile(file: string, args: string[]): Promise<void> {
  // The playbook reads its flags from process.argv as under tsx: [node, playbook, ...flags].
  process.argv = [process.argv[0]!, path.resolve(file), ...args];
  await importTypeScript(file);
}
