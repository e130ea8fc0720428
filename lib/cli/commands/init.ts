// `rigger init [DIR]`: writes a starter project (the package's starter/
// directory) into DIR: package.json, tsconfig, an inventory, a playbook, a
// role with typed defaults and a README with the next steps. It never
// overwrites a file; a package.json already there (as `npm install
// rigger-ops` leaves one) gets the starter's fields it lacks.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../shell/errors.ts';

// lib/cli/commands/ (source) and dist/cli/commands/ (package) both sit three levels below the root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STARTER = path.join(ROOT, 'starter');
/** npm drops .gitignore files from packages, so the starter ships it without the dot. */
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

type PackageJson = Record<string, unknown> & { dependencies?: Record<string, string> };

/** The starter's package.json under the user's: theirs wins field by field; rigger-ops is added to dependencies. */
function mergePackageJson(target: string, starter: PackageJson, self: { name: string; version: string }): void {
  const current = existsSync(target) ? (JSON.parse(readFileSync(target, 'utf8')) as PackageJson) : {};
  const merged: PackageJson = { ...starter, ...current };
  for (const key of ['scripts', 'devDependencies'] as const) merged[key] = { ...(starter[key] as object), ...(current[key] as object) };
  merged.dependencies = { [self.name]: `^${self.version}`, ...current.dependencies };
  if (current.type !== undefined && current.type !== 'module') throw new InputError(target, 'has "type": "' + String(current.type) + '"; rigger playbooks are ES modules ("type": "module")');
  writeFileSync(target, JSON.stringify(merged, null, 2) + '\n');
}

export async function main(args: string[]): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith('-')) throw new InputError('command line', 'usage: rigger init [DIR]');
  const dir = path.resolve(args[0] ?? '.');
  mkdirSync(dir, { recursive: true });
  const self = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const wanted = files(STARTER).filter((f) => f !== 'package.json');
  const taken = wanted.filter((f) => existsSync(path.join(dir, RENAMED[f] ?? f)));
  if (taken.length) throw new InputError(dir, `would overwrite ${taken.map((f) => RENAMED[f] ?? f).join(', ')}: init writes only new files`);
  for (const f of wanted) cpSync(path.join(STARTER, f), path.join(dir, RENAMED[f] ?? f));
  mergePackageJson(path.join(dir, 'package.json'), JSON.parse(readFileSync(path.join(STARTER, 'package.json'), 'utf8')) as PackageJson, self);
  const shown = path.relative(process.cwd(), dir) || '.';
  process.stdout.write(`A starter project in ${shown}: ${['package.json', ...wanted.map((f) => RENAMED[f] ?? f)].join(', ')}\nNext: read ${path.join(shown, 'README.md')} (npm install, edit inventory/hosts.yml, npx rigger playbooks/site.ts --check).\n`);
  return 0;
}
