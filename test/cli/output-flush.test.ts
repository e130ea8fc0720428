import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Node's `spawn` stdio pipes are socketpairs on Linux: the child's stdout is a
// socket, where Node writes asynchronously and process.exit() used to drop
// the queued tail (277-434 lines of 2,000 arrived).
const RUNS = 50;

function localHosts(n: number): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rigger-flush-')), 'hosts.yml');
  const hosts = Array.from({ length: n }, (_, i) => `    h${String(i).padStart(4, '0')}:\n`).join('');
  writeFileSync(file, `all:\n  vars:\n    ansible_connection: local\n  hosts:\n${hosts}`);
  return file;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // The playbook in one node process (no tsx wrapper process): its own stdout is the socket.
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/** `RUNS` runs, two at a time (the machine has two cores). */
async function repeat(args: string[], check: (r: { code: number | null; stdout: string }, i: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < RUNS) {
      const i = next++;
      check(await run(args), i);
    }
  };
  await Promise.all([worker(), worker()]);
}

test('--list-hosts over 2,000 hosts: every line arrives through a socket, every time', async () => {
  const inv = localHosts(2000);
  const want = ['PLAY [ping] (2000 hosts)', ...Array.from({ length: 2000 }, (_, i) => `h${String(i).padStart(4, '0')}`)].join('\n') + '\n';
  await repeat(['test/fixtures/playbooks/ping.ts', '-i', inv, '--list-hosts'], (r, i) => {
    assert.equal(r.code, 0);
    assert.equal(r.stdout.split('\n').length - 1, 2001, `run ${i}: every line arrived`);
    assert.equal(r.stdout, want, `run ${i}`);
  });
});

test('a plain recap over 500 local hosts: every host line arrives through a socket, every time', async () => {
  const inv = localHosts(500);
  await repeat(['test/fixtures/playbooks/skip-all.ts', '-i', inv, '--forks', '100'], (r, i) => {
    assert.equal(r.code, 0);
    const recap = r.stdout.split('\n').filter((l) => /^h\d{4} +: ok=0 +changed=0 .*skipped=1/.test(l));
    assert.equal(recap.length, 500, `run ${i}: every recap line arrived`);
    assert.match(r.stdout, /h0499 +: ok=0 .*\n$/, `run ${i}: the last host's line is the last line`);
  });
});
