// The package as a user gets it: `npm pack`, installed from the tarball into
// a new directory outside the repository, `npx rigger init`, the starter
// type-checked against the package's .d.ts files, and its playbook run by the
// `rigger` command against a real sshd on loopback, twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sshInventory, startSshd } from '../helpers/sshd.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
// prefer-offline: the dependencies come from npm's cache when they are there (no registry round trips).
const quiet = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'error', npm_config_prefer_offline: 'true', NO_COLOR: '1' };

async function sh(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, { cwd, env: quiet, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const changedOf = (stdout: string) => {
  const recap = JSON.parse(stdout.trim().split('\n').at(-1)!) as { type: string; hosts: Record<string, { changed: number; failed: number }> };
  assert.equal(recap.type, 'recap');
  return recap.hosts;
};

test('npm pack -> install in a new project -> rigger init -> typecheck -> the starter playbook converges over SSH', async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'rigger-pkg-'));
  const sshd = await startSshd();
  try {
    const pack = await sh('npm', ['pack', '--pack-destination', tmp], REPO);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = path.join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
    const listing = await sh('tar', ['-tzf', tarball], tmp);
    assert.match(listing.stdout, /package\/dist\/index\.d\.ts/);
    assert.doesNotMatch(listing.stdout, /package\/(test|scripts|lib|playbooks|roles)\//, 'no test, lab, script or source files');

    const project = path.join(tmp, 'infra');
    const install = await sh('npm', ['install', '--prefix', project, tarball], tmp);
    assert.equal(install.code, 0, install.stderr);
    const init = await sh('npx', ['--no-install', 'rigger', 'init'], project);
    assert.equal(init.code, 0, init.stderr);
    for (const f of ['tsconfig.json', 'inventory/hosts.yml', 'playbooks/site.ts', 'roles/motd/index.ts', 'README.md', '.gitignore']) readFileSync(path.join(project, f));
    const pkg = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as { type: string; dependencies: Record<string, string> };
    assert.equal(pkg.type, 'module');
    assert.ok(pkg.dependencies['rigger-ops'], 'the package stays a dependency');

    // The starter type-checks against the installed .d.ts files (this repository's tsc and Node types, to keep the test offline)...
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
    const typeRoots = ['--typeRoots', path.join(REPO, 'node_modules/@types')];
    const check = await sh(process.execPath, [tsc, '-p', 'tsconfig.json', ...typeRoots], project);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    // ...and those types are real: a misspelt op parameter fails.
    writeFileSync(path.join(project, 'roles/typo.ts'), "import { ops } from 'rigger-ops';\nexport const t = ops.copy({ path: '/x', contnt: 'y' });\n");
    const typo = await sh(process.execPath, [tsc, '-p', 'tsconfig.json', ...typeRoots], project);
    assert.notEqual(typo.code, 0);
    assert.match(typo.stdout, /roles\/typo\.ts.*contnt/);
    rmSync(path.join(project, 'roles/typo.ts'));

    // The schema command reads the starter's own role through the same bundling as playbooks.
    const schema = await sh('npx', ['--no-install', 'rigger', 'schema', 'inventory'], project);
    assert.equal(schema.code, 0, schema.stderr);
    const vars = (JSON.parse(schema.stdout) as { $defs: { vars: { properties: Record<string, unknown>; additionalProperties: boolean } } }).$defs.vars;
    assert.ok(vars.properties.motd_text && vars.properties.ansible_host);
    assert.equal(vars.additionalProperties, false);

    const motd = path.join(tmp, 'motd');
    const inventory = sshInventory([{ name: 'web1', sshd, vars: [`motd_path: ${motd}`] }]);
    const first = await sh('npx', ['--no-install', 'rigger', 'playbooks/site.ts', '-i', inventory, '--json'], project);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.ok(changedOf(first.stdout).web1!.changed > 0);
    assert.equal(readFileSync(motd, 'utf8'), 'This host is managed by rigger.\n');
    const second = await sh('npx', ['--no-install', 'rigger', 'playbooks/site.ts', '-i', inventory, '--json'], project);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(changedOf(second.stdout).web1!.changed, 0);

    // Errors in the user's TypeScript name its own lines (the bundle's source map), types and all above them.
    writeFileSync(
      path.join(project, 'playbooks/bad.ts'),
      "import { definePlay, ops, runPlaybook } from 'rigger-ops';\n\ntype Unused = { a: number };\nawait runPlaybook([\n  definePlay({ name: 'bad', hosts: 'all', tasks: ({ task }) => [\n    task({ name: 'relative', op: ops.copy({ path: 'not/absolute', content: 'x' }) }),\n  ] }),\n]);\n",
    );
    const bad = await sh('npx', ['--no-install', 'rigger', 'playbooks/bad.ts', '-i', inventory], project);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /^rigger: playbooks\/bad\.ts:6:5: task "relative": invalid parameter path/);
  } finally {
    await sshd.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
