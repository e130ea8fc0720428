import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCli } from '../../lib/cli/args.ts';
import { parseExtraVars } from '../../lib/cli/extra-vars.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { runCli, sentinel } from '../helpers/cli.ts';

const load = { vaultPassphrase: () => 'x' };

test('every flag parses; bad values are input errors', () => {
  const o = parseCli(['-i', 'a.yml', '--inventory', 'b.yml', '--check', '--diff', '-l', 'web', '-t', 'a,b', '--skip-tags', 'c', '-e', 'x=1', '-f', '3', '--json', '-vvv', '--host-key-checking', 'accept-new', '--list-hosts']);
  assert.deepEqual(o.inventories, ['a.yml', 'b.yml']);
  assert.equal(o.check && o.diff && o.json && o.listHosts, true);
  assert.equal(o.limit, 'web');
  assert.deepEqual(o.tags, ['a', 'b']);
  assert.deepEqual(o.skipTags, ['c']);
  assert.equal(o.forks, 3);
  assert.equal(o.verbosity, 3);
  assert.equal(o.hostKeyChecking, 'accept-new');
  assert.throws(() => parseCli(['--forks', 'zero']), InputError);
  assert.throws(() => parseCli(['--host-key-checking', 'maybe']), InputError);
  assert.throws(() => parseCli(['--nope']), InputError);
  assert.throws(() => parseCli(['stray']), InputError);
});

test('-e takes KEY=VALUE with YAML scalar types, JSON objects and @files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ev-'));
  writeFileSync(path.join(dir, 'v.yml'), 'from_file: yes-file\nnested: { a: 1 }\n');
  const v = parseExtraVars(['n=5', 'b=true', 's=hello world', '{"j": [1, 2]}', `@${path.join(dir, 'v.yml')}`, 'empty='], load);
  assert.equal(v.get('n')!.value, 5);
  assert.equal(v.get('b')!.value, true);
  assert.equal(v.get('s')!.value, 'hello world');
  assert.deepEqual(v.get('j')!.value, [1, 2]);
  assert.equal(v.get('from_file')!.value, 'yes-file');
  assert.deepEqual(v.get('nested')!.value, { a: 1 });
  assert.equal(v.get('empty')!.value, '');
  assert.throws(() => parseExtraVars(['novalue'], load), /expected KEY=VALUE/);
  assert.throws(() => parseExtraVars(['bad-name=1'], load), /invalid variable name/);
  assert.throws(() => parseExtraVars(['@/nonexistent.yml'], load), /does not exist/);
});

test('--list-hosts prints each play and its hosts without connecting; --help documents exit codes', async () => {
  // The example inventory's !vault values are encrypted with this published example passphrase.
  const r = await runCli(['playbooks/ping.ts', '-i', 'inventory/homelab.yml', '--list-hosts', '--limit', 'workers:!data_nodes'], { RIGGER_VAULT_PASSWORD: 'homelab-example' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['PLAY [ping] (2 hosts)', 'ai.vibe.local', 'cicd.vibe.local']);
  const help = await runCli(['playbooks/ping.ts', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--inventory', '--check', '--diff', '--limit', '--tags', '--skip-tags', '--extra-vars', '--forks', '--json', '-vvv', '--host-key-checking', '--list-hosts', 'Exit codes']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const bad = await runCli(['playbooks/ping.ts', '--forks', '0']);
  assert.equal(bad.code, 4);
  assert.match(bad.stderr, /^rigger: command line: --forks must be/);
});

test('the vault CLI encrypts from stdin and refuses a wrong passphrase', () => {
  const env = { ...process.env, RIGGER_VAULT_PASSWORD: 'cli-pass' };
  const enc = spawnSync('node_modules/.bin/tsx', ['scripts/vault.ts', 'encrypt'], { input: 'token-123', env, encoding: 'utf8' });
  assert.equal(enc.status, 0, enc.stderr);
  const value = enc.stdout.trim();
  assert.ok(value.startsWith('$RIGGER_VAULT;1;') && !value.includes('token-123'));
  const dec = spawnSync('node_modules/.bin/tsx', ['scripts/vault.ts', 'decrypt', value], { env, encoding: 'utf8' });
  assert.equal(dec.stdout.trim(), 'token-123');
  const wrong = spawnSync('node_modules/.bin/tsx', ['scripts/vault.ts', 'decrypt', value], { env: { ...env, RIGGER_VAULT_PASSWORD: 'nope' }, encoding: 'utf8' });
  assert.equal(wrong.status, 4);
  assert.match(wrong.stderr, /wrong vault passphrase/);
});

test('backup.ts picks the hosts that hold data and the scheduler host from the inventory, without connecting', async () => {
  const env = { RIGGER_VAULT_PASSWORD: 'homelab-example' };
  const sets = await runCli(['playbooks/backup.ts', '-i', 'inventory/homelab.yml', '--list-hosts'], env);
  assert.equal(sets.code, 0, sets.stderr);
  // Every node holds data of its own (homelab.yml): each takes its set; only the NAS has an off-site remote.
  assert.match(sets.stdout, /PLAY \[backup\] \(4 hosts\)\ngateway\.vibe\.local\nai\.vibe\.local\ndata\.vibe\.local\ncicd\.vibe\.local\n/);
  const offsite = await runCli(['playbooks/backup.ts', '-i', 'inventory/homelab.yml', '--offsite', '--list-hosts'], env);
  assert.match(offsite.stdout, /PLAY \[backup off-site\] \(1 hosts\)\ndata\.vibe\.local\n/);
  const timers = await runCli(['playbooks/backup.ts', '-i', 'inventory/homelab.yml', '--install-schedule', '--list-hosts'], env);
  assert.match(timers.stdout, /PLAY \[backup schedule\] \(1 hosts\)\ngateway\.vibe\.local\n/);
  assert.match(timers.stdout, /PLAY \[runner key authorized\] \(4 hosts\)\n/, "the runner's key goes to every host");
  const daily = await runCli(['playbooks/daily-check.ts', '-i', 'inventory/homelab.yml', '--install-schedule', '--list-hosts'], env);
  assert.match(daily.stdout, /PLAY \[daily check schedule\] \(1 hosts\)\ngateway\.vibe\.local\n/, 'the daily check runs where the backup timers do');
  const two = await runCli(['playbooks/backup.ts', '-i', 'inventory/homelab.yml', '--list', '--offsite'], env);
  assert.equal(two.code, 4);
  assert.match(two.stderr, /one mode at a time: --list and --offsite/);
  const bad = await runCli(['playbooks/backup.ts', '-i', 'inventory/homelab.yml', '--list-hosts', '-e', 'backup_schedule=0 2 * *'], env);
  assert.equal(bad.code, 4);
  assert.match(bad.stderr, /host gateway\.vibe\.local: backup_schedule: a cron schedule of five fields/);
});

test('item 19: --tags that select no task contact no host, and the run succeeds', async () => {
  const guard = await sentinel();
  // Every host points at the sentinel: any connection attempt is counted.
  const dir = mkdtempSync(path.join(tmpdir(), 'tags-'));
  const inv = path.join(dir, 'hosts.yml');
  writeFileSync(inv, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: ${guard.port}\n  hosts:\n    h1:\n    h2:\n`);
  try {
    const none = await runCli(['test/fixtures/playbooks/ping.ts', '-i', inv, '--tags', 'no-such-tag', '--json']);
    assert.equal(none.code, 0, none.stdout + none.stderr);
    const events = none.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; hosts?: Record<string, { unreachable: number }> });
    assert.ok(!events.some((e) => e.type === 'task-start'), 'no task started');
    assert.equal(events.at(-1)!.type, 'recap');
    assert.equal(guard.connections(), 0, 'no host was contacted');
    // The sentinel counts for real: the same run without --tags tries to connect.
    const all = await runCli(['test/fixtures/playbooks/ping.ts', '-i', inv, '--json']);
    assert.equal(all.code, 3, all.stdout + all.stderr);
    assert.ok(guard.connections() > 0, 'a run with a selected task connects');
  } finally {
    await guard.close();
  }
});
