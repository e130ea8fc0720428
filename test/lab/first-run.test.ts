import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encryptValue } from '../../lib/shell/vault.ts';
import { IMAGE, LAB_DIR } from '../../scripts/lab/config.ts';
import { dumpDom, screenshot } from '../helpers/chromium.ts';
import { runCli } from '../helpers/cli.ts';
import { jsonEvents } from '../helpers/data-node.ts';
import { convergedLab, ensureLab } from '../helpers/lab.ts';
import { scratchDir } from '../helpers/run.ts';
import { inTerminal } from '../helpers/tmux.ts';

// What a new user sees on a first run: the lab's own installs and image
// builds print nothing that is not theirs, a site run's --report page as
// Chromium draws it, and a no-op site run in a 120-column terminal.
const NODES = ['gateway', 'ai', 'data', 'cicd'];
/** Where CI keeps what these tests saw (docs/testing.md, the first-run row). */
const ARTIFACTS = 'test-artifacts';
const MARKER = `first-run-marker-${process.pid}`;
let inv: string;

before(async () => {
  inv = ensureLab();
  // The report's run is a site run over a converged lab (the one the suite before left, or a fresh converge):
  // what a user sees on the runs after the first, its health check failing.
  await convergedLab(inv);
  mkdirSync(ARTIFACTS, { recursive: true });
});
// No reset after: every suite that needs fresh nodes resets them itself.

const docker = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 10 * 60_000 });

test('on a fresh Debian with needrestart, the lab\'s apt installs print nothing (plain apt prints debconf and needrestart lines)', () => {
  // A clean container from the lab's base image stands for a fresh machine; node and the repository are mounted in.
  const script = [
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq needrestart >/dev/null 2>&1',
    'echo @@ours',
    `node_modules/.bin/tsx -e 'import("./scripts/lab/apt.ts").then((m) => m.aptInstall(["locales"]))'`,
    'echo @@plain',
    'apt-get install -y -qq --reinstall locales 2>&1',
    'dpkg-query -W -f "@@status \\${db:Status-Abbrev}\\n" locales',
  ].join(' && ');
  const r = docker(['run', '--rm', '-t', '-v', `${realpathSync(process.execPath)}:/usr/local/bin/node:ro`, '-v', `${process.cwd()}:/repo:ro`, '-w', '/repo', IMAGE, 'sh', '-c', script]);
  const out = r.stdout.replace(/\r/g, '');
  assert.equal(r.status, 0, out + r.stderr);
  const ours = out.split('@@ours\n')[1]!.split('@@plain\n')[0]!;
  const plain = out.split('@@plain\n')[1]!;
  assert.equal(ours, '', 'aptInstall printed nothing');
  assert.match(plain, /debconf: delaying package configuration|Scanning processes/, 'the noise it silences is really there on this machine');
  assert.match(out, /@@status ii /, 'the package was installed');
});

test('the lab\'s image builds print nothing on success (Docker\'s legacy-builder warning included)', () => {
  const tag = `rigger-lab-quiet-test:${process.pid}`;
  const r = spawnSync('node_modules/.bin/tsx', ['-e', `import('./scripts/lab/image.ts').then((m) => m.dockerBuild(${JSON.stringify(tag)}, 'FROM ${IMAGE}\\nRUN true\\n'))`], { encoding: 'utf8', timeout: 5 * 60_000 });
  docker(['image', 'rm', '-f', tag]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});

/** The lanes of a report's timeline as Chromium serialised them: host -> count of bars. */
function lanes(dom: string): Map<string, number> {
  const out = new Map<string, number>();
  const timeline = dom.slice(dom.indexOf('<div class="timeline">'), dom.indexOf('<div class="axis">'));
  for (const part of timeline.split('<div class="lane" data-host="').slice(1)) {
    const host = part.slice(0, part.indexOf('"'));
    out.set(host, part.split('<div class="bar ').length - 1);
  }
  return out;
}

test('a --report page of a site run, opened in headless Chromium: a row per host, a bar per task run, the failure\'s message, no secret', async () => {
  const labPassphrase = readFileSync(path.join(LAB_DIR, 'vault-password'), 'utf8').trim();
  const dbPassword = readFileSync(path.join(LAB_DIR, 'postgres-password'), 'utf8').trim();
  // A health check that fails on a path holding a vault secret: the failure's message must show, the secret must not.
  const extra = path.join(scratchDir(), 'extra.yml');
  writeFileSync(extra, `report_marker: !vault ${encryptValue(MARKER, labPassphrase)}\nhealth_retries: 2\nhealth_delay_seconds: 2\nhealth_checks:\n  - { service: lab_web, port: 8080, path: /${MARKER} }\n`);
  const page = path.join(ARTIFACTS, 'lab-report.html');
  const r = await runCli(['playbooks/site.ts', '-i', inv, '-e', `@${extra}`, '--json', '--report', page], {}, 15 * 60_000);
  assert.equal(r.code, 2, `the health check fails the run:\n${r.stderr}`);
  const hostEvents = jsonEvents(r.stdout).filter((e) => e.type === 'task-host');
  const failed = hostEvents.filter((e) => e.status === 'failed');
  assert.deepEqual(failed.map((e) => `${e.host}:${e.task}`), ['gateway:services healthy']);

  const dom = dumpDom(page);
  screenshot(page, path.join(ARTIFACTS, 'lab-report.png'));
  const rows = lanes(dom);
  assert.deepEqual([...rows.keys()], NODES, 'one timeline row per host');
  for (const n of NODES) assert.equal(rows.get(n), hostEvents.filter((e) => e.host === n).length, `${n}: one bar per task run`);
  const message = failed[0]!.msg!.split('\n')[0]!;
  assert.match(message, /answered 404/);
  assert.ok(dom.includes(`<pre>${failed[0]!.msg!}</pre>`), `the failure's message is listed: ${message}`);
  assert.ok(dom.includes(`services healthy: ${message}</span>`), 'and marked on its bar');
  assert.match(message, /\/\*\*\* answered 404/, 'the secret in the URL is redacted');
  const html = readFileSync(page, 'utf8');
  for (const secret of [MARKER, dbPassword, labPassphrase]) {
    assert.ok(!html.includes(secret) && !dom.includes(secret), 'no secret in the page');
  }
  assert.match(dom, /<details data-diff="">/, 'the changes\' diffs are in the page, folded');
});

/** The pane's lines under each `TASK name` line, up to the next task, play or recap. */
function taskSections(pane: string): [string, string[]][] {
  const out: [string, string[]][] = [];
  let current: string[] | undefined;
  for (const line of pane.split('\n')) {
    const head = /^\S+ (?:TASK|HANDLER) (.+)$/.exec(line);
    if (head) out.push([head[1]!, (current = [])]);
    else if (/^(PLAY|PLAY RECAP)\b/.test(line)) current = undefined;
    else if (current && line.trim() !== '') current.push(line);
  }
  return out;
}

test('a no-op site run in a 120-column terminal: a skip is drawn as a skip, each host named once per line', async () => {
  // The run before probed its marker's health check from Prometheus too (the monitoring role's probes are the
  // health checks): converged back to the inventory first, so the run drawn is a no-op.
  const back = await runCli(['playbooks/site.ts', '-i', inv], {}, 15 * 60_000);
  assert.equal(back.code, 0, back.stdout + back.stderr);
  const pane = inTerminal(`node_modules/.bin/tsx playbooks/site.ts -i ${inv}`, { columns: 120, env: { NO_COLOR: '', TERM: 'xterm-256color' } });
  writeFileSync(path.join(ARTIFACTS, 'noop-120-columns.txt'), pane);
  assert.match(pane, /^\s+✔ gateway ok \d+ ms$/m, 'the listr2 tree was drawn');
  for (const n of NODES) assert.match(pane, new RegExp(`^${n}\\s+: ok=\\d+\\s+changed=0 `, 'm'), `${n} is a no-op`);
  assert.ok(!pane.includes('⚠'), 'no warning sign anywhere');
  // Issue #28: a task's skipped hosts are one line per reason, naming the hosts.
  const aptUpgrade = /^ {2}↓ skipped on ((?:gateway|ai|data|cicd)(?:, (?:gateway|ai|data|cicd))*): apt_upgrade is none$/m.exec(pane);
  assert.ok(aptUpgrade, 'a skip is one line: the skip sign, the hosts, the reason');
  assert.ok(aptUpgrade[1]!.split(', ').length > 1, `the hosts skipped for one reason share its line: ${aptUpgrade[0]}`);
  let skipLines = 0;
  for (const [task, lines] of taskSections(pane)) {
    const skips = lines.filter((l) => l.trimStart().startsWith('↓'));
    skipLines += skips.length;
    for (const l of skips) assert.match(l, /^ {2}↓ skipped on [a-z, ]+(: .+)?$/, `${task}: a skip line names its hosts and reason`);
    const reasons = skips.map((l) => l.replace(/^ {2}↓ skipped on [a-z, ]+/, ''));
    assert.equal(new Set(reasons).size, reasons.length, `${task}: one line per skip reason:\n${skips.join('\n')}`);
  }
  assert.ok(skipLines > 0, 'the no-op run skipped something');
  for (const line of pane.split('\n')) {
    for (const n of NODES) assert.ok(line.split(new RegExp(`\\b${n}\\b`)).length <= 2, `${n} named twice: ${line}`);
  }
});
