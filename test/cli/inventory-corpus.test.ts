import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, sentinel } from '../helpers/cli.ts';

const CORPUS = 'test/fixtures/bad-inventories';
const PING = 'test/fixtures/playbooks/ping.ts';

interface Case {
  name: string;
  file: string;
  where: string;
  message: RegExp;
}

function cases(): Case[] {
  return readdirSync(CORPUS)
    .sort()
    .map((name) => {
      const entry = path.join(CORPUS, name);
      const file = statSync(entry).isDirectory() ? path.join(entry, 'hosts.yml') : entry;
      const m = /^# expect: (\S+) (.*)$/m.exec(readFileSync(file, 'utf8'));
      assert.ok(m, `${file} has an expect line`);
      const where = /^\d+:\d+$/.test(m[1]!) ? `${file}:${m[1]}` : path.join(path.dirname(file), m[1]!);
      return { name, file, where, message: new RegExp(m[2]!) };
    });
}

test('the corpus has at least 30 malformed inventories', () => {
  assert.ok(cases().length >= 30, `${cases().length} cases`);
});

// The manual's Tests table (docs/testing.md) states how many malformed inventories this suite runs: derived from the corpus here, so the two cannot drift.
test('README claim (count of malformed inventories): the Tests table row of test/cli states the corpus size', () => {
  const row = readFileSync('docs/testing.md', 'utf8').split('\n').find((l) => l.startsWith('| `test/cli` |'));
  assert.ok(row, 'docs/testing.md has a Tests table row for test/cli');
  const stated = /(\d+) malformed inventories/.exec(row)?.[1];
  assert.ok(stated, `the test/cli row states a count of malformed inventories: ${row}`);
  assert.equal(Number(stated), cases().length, `docs/testing.md says ${stated}, the corpus (${CORPUS}) holds ${cases().length}`);
});

test('every malformed inventory gives one error naming file:line:col, exit 4, and no connection', async () => {
  const guard = await sentinel();
  // Every host of every case points at the sentinel: any connection attempt would be counted.
  const dir = mkdtempSync(path.join(tmpdir(), 'corpus-'));
  const good = path.join(dir, 'connect.yml');
  writeFileSync(good, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: ${guard.port}\n`);
  try {
    for (const c of cases()) {
      const r = await runCli([PING, '-i', good, '-i', c.file], { RIGGER_VAULT_PASSWORD: 'corpus' });
      assert.equal(r.code, 4, `${c.name}: exit code\n${r.stdout}${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${c.name}: exactly one error line, got:\n${r.stderr}`);
      assert.ok(lines[0]!.startsWith(`rigger: ${c.where}: `), `${c.name}: expected ${c.where}, got: ${lines[0]}`);
      assert.match(lines[0]!, c.message, c.name);
      assert.equal(r.stdout, '', `${c.name}: nothing on stdout`);
    }
    assert.equal(guard.connections(), 0);
  } finally {
    await guard.close();
  }
});

test('an unknown group in --limit or in a play pattern is an input error naming where it was written', async () => {
  const guard = await sentinel();
  const dir = mkdtempSync(path.join(tmpdir(), 'corpus-'));
  const inv = path.join(dir, 'hosts.yml');
  writeFileSync(inv, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: ${guard.port}\n  children:\n    web:\n      hosts:\n        h1:\n`);
  try {
    const limit = await runCli([PING, '-i', inv, '--limit', 'web:dbz']);
    assert.equal(limit.code, 4);
    assert.match(limit.stderr, /^rigger: command line --limit: host pattern "web:dbz": "dbz" is not a host or group/);
    const play = await runCli([PING, '-i', inv], { PING_HOSTS: 'webz' });
    assert.equal(play.code, 4);
    assert.match(play.stderr, /^rigger: test\/fixtures\/playbooks\/ping\.ts:5:3: host pattern "webz"/);
    const json = await runCli([PING, '-i', inv, '--json'], { PING_HOSTS: 'webz' });
    assert.equal(json.code, 4);
    assert.equal(JSON.parse(json.stdout.trim()).type, 'error');
    assert.equal(guard.connections(), 0);
  } finally {
    await guard.close();
  }
  assert.ok(existsSync(PING));
});
