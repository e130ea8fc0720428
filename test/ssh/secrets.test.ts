import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { leakFinder, leaks, markerForms } from '../helpers/secret-forms.ts';
import { startSshd, sshInventory, type TestSshd } from '../helpers/sshd.ts';

const PASS = 'vault-pass-for-test';
/**
 * What each marker holds besides its number and random part: characters that
 * every escaping (JSON, URL, shell quoting, HTML) changes, so that a form the
 * redaction misses cannot hide behind an escape that leaves the marker as it
 * is. Two stay letters and digits only.
 */
const MARKER_TEXTS = [`it's`, `"dq" \\ back\\slash`, '$HOME $(id) `x` ${y}', 'sp ace  twice', 'ü€✓ non-ascii', `tab\tmixed 'q" $`, '% & ; | * ? ~ #', `\\n "" ''`, '', ''];
export const newMarkers = () =>
  MARKER_TEXTS.map((text, i) => `MARKER${String(i + 1).padStart(2, '0')}-${text}${text ? '-' : ''}${Math.random().toString(36).slice(2, 10)}`);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b[()][A-Z0-9]/g, '');
}

/** Inventory (markers 1-3), group_vars (4-5), an -e @file (9) as !vault values; the rest in a markers file. */
export function secretsSetup(sshd: TestSshd, markers: string[]): { args: string[]; env: Record<string, string> } {
  const work = mkdtempSync(path.join(tmpdir(), 'secrets-'));
  const v = (i: number) => `!vault ${encryptValue(markers[i]!, PASS)}`;
  const invDir = path.dirname(sshInventory([{ name: 'h1', sshd, vars: [`m1: ${v(0)}`, `m2: ${v(1)}`, `m3: ${v(2)}`] }]));
  mkdirSync(path.join(invDir, 'group_vars'));
  writeFileSync(path.join(invDir, 'group_vars', 'all.yml'), `m4: ${v(3)}\nm5: ${v(4)}\n`);
  const extra = path.join(work, 'extra.yml');
  writeFileSync(extra, `m9: ${v(8)}\n`);
  const markersFile = path.join(work, 'markers.json');
  writeFileSync(markersFile, JSON.stringify(markers));
  return {
    args: ['test/fixtures/playbooks/secrets.ts', '-i', path.join(invDir, 'hosts.yml'), '-e', `@${extra}`],
    env: { RIGGER_VAULT_PASSWORD: PASS, MARKERS_FILE: markersFile },
  };
}

test('ten marker secrets, rotated once, appear in no form in terminal, plain, --json and --report output (-vvv --diff) nor plain output', async () => {
  const sshd = await startSshd();
  try {
    const work = mkdtempSync(path.join(tmpdir(), 'secrets-out-'));
    const modes: Record<string, (args: string[], env: NodeJS.ProcessEnv) => { cmd: string; args: string[]; env: NodeJS.ProcessEnv }> = {
      // `script` gives the playbook a real pseudo-terminal, so the listr2 tree renders.
      terminal: (args, env) => ({ cmd: 'script', args: ['-qefc', ['stty cols 100 rows 50;', 'node_modules/.bin/tsx', ...args, '-vvv', '--diff'].join(' '), '/dev/null'], env: { ...env, TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: '1' } }),
      plain: (args, env) => ({ cmd: 'node_modules/.bin/tsx', args: [...args, '-vvv', '--diff'], env: { ...env, NO_COLOR: '1' } }),
      json: (args, env) => ({ cmd: 'node_modules/.bin/tsx', args: [...args, '-vvv', '--diff', '--json'], env: { ...env, NO_COLOR: '1' } }),
      quiet: (args, env) => ({ cmd: 'node_modules/.bin/tsx', args, env: { ...env, NO_COLOR: '1' } }),
      report: (args, env) => ({ cmd: 'node_modules/.bin/tsx', args: [...args, '-vvv', '--diff', '--report', path.join(work, 'report.html')], env: { ...env, NO_COLOR: '1' } }),
    };
    for (const [mode, build] of Object.entries(modes)) {
      const dir = mkdtempSync(path.join(work, `${mode}-`));
      let previous: string[] = [];
      // The second run rotates every secret: the files' old values are what a diff would show.
      for (const round of ['first', 'rotated']) {
        const markers = newMarkers();
        const setup = secretsSetup(sshd, markers);
        const m = build(setup.args, { ...process.env, ...setup.env, SECRETS_DIR: dir });
        const r = spawnSync(m.cmd, m.args, { env: m.env, encoding: 'utf8', timeout: 120_000 });
        const page = mode === 'report' ? readFileSync(path.join(work, 'report.html'), 'utf8') : '';
        const output = stripAnsi(`${r.stdout}\n${r.stderr}\n${page}`);
        const what = `${mode}, ${round} run`;
        assert.equal(r.status, 2, `${what}: the failing task fails the run\n${output}`);
        assert.deepEqual(leaks(output, [...markers, ...previous]), [], `${what}: no marker in any form`);
        assert.match(output, /failing op factory/);
        if (mode !== 'quiet') {
          assert.ok(output.includes('***'), `${what}: secrets are shown as ***\n${output}`);
          assert.match(output, /-\(content hidden: secret\)/, `${what}: a secret file's diff hides both sides`);
          assert.match(output, /\+\(content hidden: secret\)/);
        }
        if (mode === 'plain') assert.match(output, /echo stdin stdout: \*\*\*/, 'the output of a command fed a secret is still streamed at -v');
        if (mode === 'terminal') assert.match(r.stdout, /\u2714|\u2716/, 'the listr2 tree was drawn');
        if (mode === 'report') assert.match(page, /failed in <b>failing op factory<\/b> <code>[^<]+<\/code><pre>cannot use \*\*\* [^<]*<\/pre>/, 'the page lists the failure, its secrets redacted');
        // The secrets did reach the host: the redaction is in the output, not a missing value.
        assert.equal(readFileSync(path.join(dir, 'm6'), 'utf8'), markers[5]);
        assert.equal(readFileSync(path.join(dir, 'm9'), 'utf8'), markers[8]);
        assert.equal(readFileSync(path.join(dir, 'm10'), 'utf8'), markers[9]);
        assert.equal(readFileSync(path.join(dir, 'tpl'), 'utf8'), `user=app\npassword=${markers[6]}\ntoken=${markers[4]}\n`);
        assert.match(readFileSync(path.join(dir, 'conf'), 'utf8'), new RegExp(`password=${escapeRegExp(markers[0]!)}\\nb=2 ${escapeRegExp(markers[3]!)}`));
        if (mode === 'json') {
          const lines = r.stdout.trim().split('\n');
          for (const l of lines) JSON.parse(l);
          assert.equal(JSON.parse(lines.at(-1)!).type, 'recap');
          assert.ok(lines.some((l) => l.includes('"type":"output"')), 'remote output was streamed at -v');
          assert.ok(lines.some((l) => l.includes('"type":"command"')), 'commands were echoed at -vvv');
          // Output events are never a state read of a secret file: no stat line, no checksum line.
          assert.ok(!lines.some((l) => l.includes('"type":"output"') && /regular file\|/.test(l)), 'no probe of a secret file was streamed');
        }
        previous = markers;
      }
    }
  } finally {
    await sshd.stop();
  }
});

test('the marker forms the tests look for are the ones an encoder produces', () => {
  const m = 'MARKER01-abc123';
  const forms = markerForms(m);
  for (const text of [Buffer.from(`x${m}`).toString('base64'), Buffer.from(`xy${m}`).toString('base64'), Buffer.from(m).toString('hex')]) {
    assert.ok(forms.some((f) => text.includes(f)), text);
  }
});

/**
 * A read of /proc/PID/environ that has nothing to show: ENOENT, the process
 * ended between the listing of /proc and the read (its entry is gone);
 * ESRCH, the process has no memory left to read (it is exiting, a zombie, or
 * a kernel thread, which never has an environment).
 */
const nothingToRead = (e: unknown) => ['ENOENT', 'ESRCH'].includes((e as NodeJS.ErrnoException).code ?? '');

/** A process's identity across samples: its pid and its start time (field 22 of /proc/PID/stat), so a reused pid is another process. */
async function identity(pid: string): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return `${pid}@${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch (e) {
    if (nothingToRead(e)) return undefined;
    throw e;
  }
}

/**
 * The processes whose environment cannot be read (EACCES: on this machine
 * the sandbox's own pid 1), taken before the run starts. Their environment
 * was set when they were started, before this test made its markers, and
 * none of them is a descendant of the run, so none can hold a marker; a
 * process started later that cannot be read fails the test.
 */
async function unreadableBefore(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    try {
      await readFile(`/proc/${pid}/environ`);
    } catch (e) {
      if (nothingToRead(e)) continue;
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      const id = await identity(pid);
      if (id) out.add(id);
    }
  }
  return out;
}

/** One look at every process: its argv (ps) and its environment (/proc/PID/environ, one variable per entry). */
async function sampleProcesses(olderUnreadable: Set<string>): Promise<{ args: string; environs: { pid: string; vars: string[] }[] }> {
  const { stdout: args } = await promisify(execFile)('ps', ['-eo', 'args'], { maxBuffer: 16 << 20 });
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  const environs = await Promise.all(
    pids.map(async (pid) => {
      try {
        return [{ pid, vars: (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0') }];
      } catch (e) {
        if (nothingToRead(e)) return [];
        const id = (e as NodeJS.ErrnoException).code === 'EACCES' ? await identity(pid) : undefined;
        if (id !== undefined && olderUnreadable.has(id)) return [];
        throw e;
      }
    }),
  );
  return { args, environs: environs.flat() };
}

test('while the secret-handling ops run, no marker nor digest of one is in any argv or environment on the host', async () => {
  const sshd = await startSshd();
  try {
    const olderUnreadable = await unreadableBefore();
    const markers = newMarkers();
    const setup = secretsSetup(sshd, markers);
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-ps-'));
    const child = spawn('node_modules/.bin/tsx', [...setup.args, '-v'], { env: { ...process.env, ...setup.env, SECRETS_DIR: dir, NO_COLOR: '1' }, stdio: 'ignore' });
    let running = true;
    child.on('close', () => (running = false));
    let samples = 0;
    let writesSeen = 0;
    let envCommandsSeen = 0;
    const found: string[] = [];
    // The one variable a process is meant to hold a secret in: PW, which the 'secret env' task gives its command (marker 7).
    const askedFor = `PW=${markers[6]}`;
    const leaksIn = leakFinder(markers);
    while (running) {
      const { args, environs } = await sampleProcesses(olderUnreadable);
      samples++;
      // The write script of a copy is in argv while it runs: proof that the sampling caught the ops at work.
      if (args.includes('sha256sum -c --status')) writesSeen++;
      found.push(...leaksIn(args).map((l) => `argv: ${l}`));
      for (const e of environs) {
        if (e.vars.includes(askedFor)) envCommandsSeen++;
        // Every other variable of every process, that command's RIGGER_SECRETS and the rest included, holds no marker.
        const rest = e.vars.filter((v) => v !== askedFor).join('\n');
        found.push(...leaksIn(rest).map((l) => `environ of ${e.pid}: ${l}`));
      }
    }
    assert.deepEqual(found, []);
    assert.ok(writesSeen > 0, `a secret file's write was sampled while it ran (${samples} samples)`);
    assert.ok(envCommandsSeen > 0, 'the secret env command was sampled while it ran');
    assert.equal(readFileSync(path.join(dir, 'm6'), 'utf8'), markers[5]);
  } finally {
    await sshd.stop();
  }
});

test('a Secret in a template literal, a concatenation or a template fails at that line and changes nothing', async () => {
  const sshd = await startSshd();
  try {
    const pw = `pw-${Math.random().toString(36).slice(2, 10)}`;
    const inv = sshInventory([{ name: 'h1', sshd, vars: [`pw: !vault ${encryptValue(pw, PASS)}`] }]);
    const dir = mkdtempSync(path.join(tmpdir(), 'secret-text-'));
    const r = spawnSync('node_modules/.bin/tsx', ['test/fixtures/playbooks/secret-as-text.ts', '-i', inv], {
      env: { ...process.env, RIGGER_VAULT_PASSWORD: PASS, SECRETS_DIR: dir, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, `every task ignores its error\n${out}`);
    const failed = out.split('\n').filter((l) => l.startsWith('failed (ignored)'));
    assert.equal(failed.length, 3, out);
    assert.match(failed[0]!, /content .*test\/fixtures\/playbooks\/secret-as-text\.ts:15:\d+: a Secret was used as text/);
    assert.match(failed[1]!, /script .*test\/fixtures\/playbooks\/secret-as-text\.ts:16:\d+: a Secret was used as text/);
    assert.match(failed[2]!, /template .*template conf: test\/fixtures\/playbooks\/secret-as-text\.ts:7:\d+: a Secret was used as text/);
    assert.ok(!out.includes(pw) && !out.includes('password=***'), 'never *** in place of the value');
    assert.deepEqual(readdirSync(dir), [], 'no host file was written');
    assert.match(out, /h1 +: ok=0 +changed=0 .*failed=0 .*ignored=3/);
  } finally {
    await sshd.stop();
  }
});
