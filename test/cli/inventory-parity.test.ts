import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inventoryCommand } from '../../lib/inventory/inventory-command.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { parseExtraVars } from '../../lib/cli/extra-vars.ts';
import { splitPattern } from '../../lib/inventory/patterns.ts';
import { runCli } from '../helpers/cli.ts';
import { KEEP_VAULT_TEXT } from '../../lib/inventory/yaml-nodes.ts';
import { ansibleBoolean } from '../../lib/inventory/connection-vars.ts';
import { INVENTORY_CASES, LIMIT_CASES, SPLIT_PATTERNS, type InventoryCase } from '../fixtures/parity/inventory-cases.ts';

/**
 * The inventory conformance test of issue 15: each case's inventories are
 * shown by rigger (the code behind scripts/inventory.ts) and by
 * ansible-inventory (ansible-core on this machine); --list must be equal
 * (group and host order inside a group aside), --graph the same text,
 * --host the same variables. Host patterns and limits are compared with
 * Ansible's own InventoryManager.
 */
const DIR = 'test/fixtures/parity/inventories';
const ANSIBLE_ENV = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_DEPRECATION_WARNINGS: 'false' };

function ansibleInventory(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ansible-inventory', args, { env: ANSIBLE_ENV, cwd: DIR }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

function args(c: InventoryCase): string[] {
  return [...c.files.flatMap((f) => ['-i', f]), ...(c.playbookDir ? ['--playbook-dir', c.playbookDir] : [])];
}

/**
 * Python's json.dumps writes inf and nan as bare Infinity, -Infinity and
 * NaN, which JSON.parse refuses: read them back as numbers.
 */
function parsePythonJson(text: string): Record<string, unknown> {
  const mark = '\u0001rigger-number:';
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    const word = /^(-Infinity|Infinity|NaN)/.exec(text.slice(i))?.[1];
    if (word) {
      out += JSON.stringify(mark + word);
      i += word.length - 1;
    } else out += ch;
  }
  return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(mark) ? Number(v.slice(mark.length)) : v)) as Record<string, unknown>;
}

/** Group order aside: the lists inside each group entry are compared as sets. */
function unordered(list: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(list).map(([k, v]) => [k, k === '_meta' ? v : Object.fromEntries(Object.entries(v as Record<string, string[]>).map(([kk, vv]) => [kk, [...vv].sort()]))]),
  );
}

/** Runs a few at a time: ansible-inventory takes about a second, mostly Python start-up. */
async function inBatches<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) out.push(...(await Promise.all(jobs.slice(i, i + width).map((j) => j()))));
  return out;
}

async function rigger(argv: string[]) {
  const cwd = process.cwd();
  // inventoryCommand reads paths as given, so run it from the fixtures directory as ansible-inventory is.
  process.chdir(DIR);
  try {
    return await inventoryCommand(argv);
  } finally {
    process.chdir(cwd);
  }
}

test(`${INVENTORY_CASES.length} inventories: --list, --graph and --host equal ansible-inventory's`, async () => {
  const jobs = INVENTORY_CASES.flatMap((c) => [
    { c, what: '--list', argv: [...args(c), '--list'] },
    { c, what: '--graph', argv: [...args(c), '--graph'] },
    ...(c.graphGroups ?? []).map((g) => ({ c, what: `--graph ${g}`, argv: [...args(c), '--graph', g] })),
    ...c.hosts.map((h) => ({ c, what: `--host ${h}`, argv: [...args(c), '--host', h] })),
  ]);
  const answers = await inBatches(jobs.map((j) => () => ansibleInventory(j.argv)));
  const problems: string[] = [];
  for (const [i, j] of jobs.entries()) {
    const a = answers[i]!;
    const r = await rigger(j.argv);
    const where = `${j.c.id} ${j.what}`;
    if (j.c.failsAt) {
      if ((a.code === 0) !== Boolean(j.c.ansibleAccepts)) problems.push(`${where}: ansible-inventory exit ${a.code}`);
      if (r.code === 0 || !r.stderr.includes(j.c.failsAt)) problems.push(`${where}: rigger should fail at ${j.c.failsAt}: ${r.stderr}`);
      continue;
    }
    if (a.code !== 0 || r.code !== 0) {
      problems.push(`${where}: exit codes ansible ${a.code}, rigger ${r.code}\n${a.stderr}\n${r.stderr}`);
      continue;
    }
    if (j.what.startsWith('--graph')) {
      if (r.stdout !== a.stdout) problems.push(`${where}:\nansible:\n${a.stdout}rigger:\n${r.stdout}`);
    } else {
      const want = parsePythonJson(a.stdout);
      const got = parsePythonJson(r.stdout);
      const [w, g] = j.what === '--list' ? [unordered(want), unordered(got)] : [want, got];
      try {
        assert.deepEqual(g, w);
      } catch {
        problems.push(`${where}:\nansible: ${JSON.stringify(w)}\nrigger:  ${JSON.stringify(g)}`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join('\n\n'));
});

test('INI values are typed as Ansible types them (shlex takes the quotes off a host line first)', async () => {
  const r = await rigger(['-i', 'typing.ini', '--host', 'host1']);
  const v = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(
    [v.v0, v.v1, v.v2, v.v3, v.v4, v.v5, v.v6, v.v7, v.v8, v.v9, v.v10, v.v11, v.v12, v.v13, v.v14, v.v15, v.v16],
    ['string', 'no', 'No', 'false', 'FALSE', [], false, 0, 31, 1.5, 'two words', [1, 'a'], null, '/usr/bin/python3', 1000, -3, '{k:1}'],
  );
});

test('item 18: YAML plain scalars are typed as PyYAML types them: y and n stay strings', async () => {
  const a = await ansibleInventory(['-i', 'yaml-scalars.yml', '--host', 'scalars']);
  assert.equal(a.code, 0, a.stderr);
  const want = parsePythonJson(a.stdout);
  assert.deepEqual(want.letters, ['x', 'y', 'n', 'Y', 'N'], 'ansible-inventory keeps y and n as strings');
  // What a playbook's tasks see, not only what the inventory command prints.
  const inventory = await loadInventories([path.join(DIR, 'yaml-scalars.yml')], { vaultPassphrase: KEEP_VAULT_TEXT });
  const vars = Object.fromEntries([...inventory.varsFor('scalars')].map(([k, v]) => [k, v.value]));
  assert.deepEqual(vars, want);
  // A vars file (-e @file) is read the same way.
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'scalars-')), 'vars.yml');
  writeFileSync(file, 'b: [x, y]\nflag: yes\nsexagesimal: 1:20\nlater: 2001-1-4 2:59:43\n');
  const extra = parseExtraVars([`@${file}`], { vaultPassphrase: KEEP_VAULT_TEXT });
  assert.deepEqual(
    Object.fromEntries([...extra].map(([k, v]) => [k, v.value])),
    { b: ['x', 'y'], flag: true, sexagesimal: 80, later: '2001-01-04T02:59:43' },
  );
});

test('review item 1: a YAML ansible_become of y, n, t, 1 or "yes" loads, and rigger becomes exactly where Ansible\'s boolean() says so', async () => {
  const listed = await ansibleInventory(['-i', 'become-words.yml', '--list']);
  assert.equal(listed.code, 0, listed.stderr);
  const hostvars = (parsePythonJson(listed.stdout)._meta as { hostvars: Record<string, { ansible_become: unknown }> }).hostvars;
  // Ansible's own conversion of each value as its inventory holds it.
  const script = `
import json, sys
from ansible.module_utils.parsing.convert_bool import boolean
print(json.dumps({h: boolean(v) for h, v in json.loads(sys.stdin.read()).items()}))`;
  const values = Object.fromEntries(Object.entries(hostvars).map(([h, v]) => [h, v.ansible_become]));
  const ansible = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(values), env: ANSIBLE_ENV }).toString()) as Record<string, boolean>;
  const inventory = await loadInventories([path.join(DIR, 'become-words.yml')], { vaultPassphrase: KEEP_VAULT_TEXT });
  const rigger = Object.fromEntries(Object.keys(values).map((h) => [h, ansibleBoolean(inventory.varsFor(h).get('ansible_become')?.value)]));
  assert.deepEqual(rigger, ansible);
  assert.ok(Object.values(ansible).includes(true) && Object.values(ansible).includes(false));
});

test('host patterns split as Ansible splits them', () => {
  const script = `
import json, sys
from ansible.inventory.manager import split_host_pattern
print(json.dumps([split_host_pattern(p) for p in json.loads(sys.stdin.read())]))`;
  const python = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(SPLIT_PATTERNS), env: ANSIBLE_ENV }).toString()) as string[][];
  assert.deepEqual(SPLIT_PATTERNS.map(splitPattern), python);
});

/**
 * `--list-hosts` output of either tool: each play's hosts by the play's name
 * (`case N`), sorted, as ansible-playbook lists a play's hosts as a set.
 */
function listedHosts(text: string, playLine: RegExp, hostLine: RegExp): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const play = playLine.exec(line);
    const host = hostLine.exec(line);
    if (play) out.set(play[1]!, (current = []));
    else if (current && host) current.push(host[1]!);
  }
  for (const hosts of out.values()) hosts.sort();
  return out;
}

test('test bullet: --list-hosts with --limit, through the real CLI, lists the hosts ansible-playbook lists', async () => {
  const inventoryFile = path.join(DIR, 'limit.yml');
  const work = mkdtempSync(path.join(tmpdir(), 'limits-'));
  // One run of each tool per distinct limit, with one play per pattern.
  const limits = [...new Set(LIMIT_CASES.map(([, limit]) => limit))];
  const runs = await inBatches(
    limits.map((limit, n) => async () => {
      // Plays are named `case N` by their place in this run, as list-patterns.ts names them.
      const cases = LIMIT_CASES.map(([pattern, l]) => ({ pattern, l })).filter((c) => c.l === limit).map((c, i) => ({ ...c, i }));
      const limitArgs = limit === undefined ? [] : ['--limit', limit];
      const playbook = path.join(work, `limit-${n}.yml`);
      writeFileSync(playbook, JSON.stringify(cases.map((c) => ({ name: `case ${c.i}`, hosts: c.pattern, gather_facts: false, tasks: [] }))));
      const [ansible, rigger] = await Promise.all([
        new Promise<string>((resolve, reject) =>
          execFile('ansible-playbook', ['-i', inventoryFile, '--list-hosts', ...limitArgs, playbook], { env: ANSIBLE_ENV }, (err, out, errOut) =>
            err ? reject(new Error(`ansible-playbook (limit ${limit}): ${errOut}`)) : resolve(out),
          ),
        ),
        runCli(['test/fixtures/playbooks/list-patterns.ts', '-i', inventoryFile, '--list-hosts', ...limitArgs], { LIST_PATTERNS: JSON.stringify(cases.map((c) => c.pattern)) }),
      ]);
      assert.equal(rigger.code, 0, `rigger (limit ${limit}): ${rigger.stderr}`);
      return {
        cases,
        ansible: listedHosts(ansible, /^\s+play #\d+ \([^)]*\): (case \d+)/, /^ {6}(\S+)$/),
        rigger: listedHosts(rigger.stdout, /^PLAY \[(case \d+)\]/, /^(\S+)$/),
      };
    }),
  );
  let compared = 0;
  for (const run of runs) {
    for (const c of run.cases) {
      const name = `case ${c.i}`;
      const want = run.ansible.get(name);
      assert.ok(want, `ansible-playbook listed ${name} (${c.pattern} --limit ${c.l})`);
      assert.deepEqual(run.rigger.get(name), want, `${c.pattern} --limit ${c.l}`);
      compared++;
    }
  }
  assert.equal(compared, LIMIT_CASES.length);
});
