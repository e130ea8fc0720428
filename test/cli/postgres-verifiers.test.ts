import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseClusterState } from '../../lib/ops/postgres/databases.ts';
import { scramVerifier, verifierMatches } from '../../lib/ops/postgres/scram.ts';
import { runCli } from '../helpers/cli.ts';
import { localInventory } from '../helpers/run.ts';
import { leaks } from '../helpers/secret-forms.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres(`superuser ${Math.random().toString(36).slice(2)}`);
});
after(() => pg.stop());

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;
const random = () => Math.random().toString(36).slice(2, 10);

/** The stored verifier of each role that has a password. */
function verifiers(): Map<string, string> {
  const rows = pg.sql('postgres', "SELECT rolname || '|' || rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL").trim().split('\n').filter(Boolean);
  return new Map(rows.map((r) => [r.slice(0, r.indexOf('|')), r.slice(r.indexOf('|') + 1)]));
}

/** The op run with these databases at -v, -vvv, -vvv --json and -vvv --report: each output (the page included). */
async function runEveryOutput(databases: { name: string; owner: string; password: string }[]): Promise<Record<string, string>> {
  const work = mkdtempSync(path.join(tmpdir(), 'pg-verifiers-'));
  const file = path.join(work, 'databases.json');
  writeFileSync(file, JSON.stringify(databases));
  const env = { DATABASES_FILE: file, PATH: `${pg.dockerBin}:${process.env.PATH}` };
  const args = ['test/fixtures/playbooks/postgres-databases.ts', '-i', localInventory(['dbhost'])];
  const outputs: Record<string, string> = {};
  for (const [mode, extra] of Object.entries({ '-v': ['-v'], '-vvv': ['-vvv', '--diff'], json: ['-vvv', '--json'], report: ['-vvv', '--report', path.join(work, 'report.html')] })) {
    const r = await runCli([...args, ...extra], env);
    assert.equal(r.code, 0, `${mode}: the op ran\n${r.stdout}${r.stderr}`);
    outputs[mode] = r.stdout + r.stderr + (mode === 'report' ? readFileSync(path.join(work, 'report.html'), 'utf8') : '');
  }
  return outputs;
}

test('item 7: role password verifiers read by the databases probe reach no -v, -vvv, --json nor --report output', async () => {
  // Roles of other applications, with passwords holding quotes, a backslash, `$`, spaces and non-ASCII.
  const others = [`o'ne "two" \\ $PATH ${random()}`, `zwei ü€ ${random()}`];
  pg.sql('postgres', `CREATE ROLE other_app LOGIN PASSWORD ${sqlText(others[0]!)}; CREATE ROLE third_app LOGIN PASSWORD ${sqlText(others[1]!)}`);
  pg.sql('postgres', `CREATE ROLE app LOGIN PASSWORD ${sqlText(`old ${random()}`)}`);
  const password = `new 'pw' "x" \\ $y ${random()}`;

  // The op with nothing to manage still reads every role; then it sets app's password and makes its database.
  for (const databases of [[], [{ name: 'appdb', owner: 'app', password }]]) {
    const stored = verifiers();
    assert.ok(stored.size >= 3, 'the probe has verifiers to read');
    const outputs = await runEveryOutput(databases);
    for (const [mode, text] of Object.entries(outputs)) {
      assert.deepEqual(leaks(text, [...stored.values(), ...verifiers().values(), ...others, password]), [], `${mode} (${databases.length} databases): no verifier nor password in any form`);
    }
    assert.match(outputs['-v']!, /application databases/);
  }
  // The op did its work: app's stored verifier is the inventory's password, its database exists.
  assert.ok(verifierMatches(verifiers().get('app')!, password));
  assert.equal(pg.sql('postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'").trim(), 'app');
});

test('item 7: when psql fails after printing the roles, the failure reason holds no verifier', () => {
  const verifier = scramVerifier(`pw ${random()}`);
  const state = parseClusterState(`@@psql role|app|${verifier}\nrole|postgres|\npsql: error: connection to server lost\n`);
  assert.equal(state.error, 'psql failed: psql: error: connection to server lost');
  assert.deepEqual(leaks(state.error, [verifier]), []);
});
