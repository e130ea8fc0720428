import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../lib/core/vault.ts';
import { startSshd, sshInventory } from '../helpers/sshd.ts';

const PASS = 'vault-pass-for-test';
const markers = Array.from({ length: 10 }, (_, i) => `MARKER${String(i + 1).padStart(2, '0')}-${Math.random().toString(36).slice(2, 10)}`);

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b[()][A-Z0-9]/g, '');
}

test('ten marker secrets appear zero times in terminal, plain, --json and --report output at -vvv --diff', async () => {
  const sshd = await startSshd();
  try {
    const work = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    const v = (i: number) => `!vault ${encryptValue(markers[i]!, PASS)}`;
    const invDir = path.dirname(
      sshInventory([{ name: 'h1', sshd, vars: [`m1: ${v(0)}`, `m2: ${v(1)}`, `m3: ${v(2)}`] }]),
    );
    mkdirSync(path.join(invDir, 'group_vars'));
    writeFileSync(path.join(invDir, 'group_vars', 'all.yml'), `m4: ${v(3)}\nm5: ${v(4)}\n`);
    const extra = path.join(work, 'extra.yml');
    writeFileSync(extra, `m9: ${v(8)}\n`);
    const env = {
      ...process.env,
      RIGGER_VAULT_PASSWORD: PASS,
      MARKER_06: markers[5]!,
      MARKER_07: markers[6]!,
      MARKER_08: markers[7]!,
      MARKER_10: markers[9]!,
    };
    const args = ['test/fixtures/playbooks/secrets.ts', '-i', path.join(invDir, 'hosts.yml'), '-e', `@${extra}`, '-vvv', '--diff'];
    const modes: Record<string, { cmd: string; args: string[]; env: Record<string, string | undefined> }> = {
      // `script` gives the playbook a real pseudo-terminal, so the listr2 tree renders.
      terminal: { cmd: 'script', args: ['-qefc', ['stty cols 100 rows 50;', 'node_modules/.bin/tsx', ...args].join(' '), '/dev/null'], env: { ...env, TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: '1' } },
      plain: { cmd: 'node_modules/.bin/tsx', args, env: { ...env, NO_COLOR: '1' } },
      json: { cmd: 'node_modules/.bin/tsx', args: [...args, '--json'], env: { ...env, NO_COLOR: '1' } },
      report: { cmd: 'node_modules/.bin/tsx', args: [...args, '--report', path.join(work, 'report.html')], env: { ...env, NO_COLOR: '1' } },
    };
    for (const [mode, m] of Object.entries(modes)) {
      const dir = mkdtempSync(path.join(work, `${mode}-`));
      const r = spawnSync(m.cmd, m.args, { env: { ...m.env, SECRETS_DIR: dir } as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 120_000 });
      const page = mode === 'report' ? readFileSync(path.join(work, 'report.html'), 'utf8') : '';
      const output = stripAnsi(`${r.stdout}\n${r.stderr}\n${page}`);
      const flat = output.replace(/\s+/g, '');
      assert.equal(r.status, 2, `${mode}: the failing task fails the run\n${output}`);
      for (const marker of markers) {
        assert.equal(output.split(marker).length - 1, 0, `${mode}: ${marker} leaked`);
        assert.ok(!flat.includes(marker), `${mode}: ${marker} leaked across a line break`);
      }
      assert.ok(output.includes('***'), `${mode}: secrets are shown as ***\n${output}`);
      assert.match(output, /failing op factory/);
      if (mode === 'terminal') assert.match(r.stdout, /\u2714|\u2716/, 'the listr2 tree was drawn');
      if (mode === 'report') assert.match(page, /failed in <b>failing op factory<\/b> <code>[^<]+<\/code><pre>cannot use \*\*\* or \*\*\*<\/pre>/, 'the page lists the failure, its secrets redacted');
      // The secrets did reach the host: the redaction is in the output, not a missing value.
      assert.equal(readFileSync(path.join(dir, 'm6'), 'utf8'), markers[5]);
      assert.equal(readFileSync(path.join(dir, 'm9'), 'utf8'), markers[8]);
      assert.equal(readFileSync(path.join(dir, 'm10'), 'utf8'), markers[9]);
      assert.match(readFileSync(path.join(dir, 'conf'), 'utf8'), new RegExp(`password=${markers[0]}\\nb=2 ${markers[3]}`));
      if (mode === 'json') {
        const lines = r.stdout.trim().split('\n');
        for (const l of lines) JSON.parse(l);
        assert.equal(JSON.parse(lines.at(-1)!).type, 'recap');
        assert.ok(lines.some((l) => l.includes('"type":"output"')), 'remote output was streamed at -v');
        assert.ok(lines.some((l) => l.includes('"type":"command"')), 'commands were echoed at -vvv');
      }
    }
  } finally {
    await sshd.stop();
  }
});
