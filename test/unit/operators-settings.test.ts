import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventories } from '../../lib/inventory/load.ts';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { stack } from '../../lib/ops/docker/stack.ts';
import { backupVars } from '../../lib/backup/config.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { stackEnv, stacksDefaults } from '../../roles/stacks/index.ts';
import { databasesDefaults } from '../../roles/databases/index.ts';
import { dailyCheckVars } from '../../roles/daily-check.ts';
import { ops } from '../../lib/index.ts';
import { HOMELAB_VAULT_PASSWORD, rehearsalInventoryText } from '../../scripts/lab/rehearsal.ts';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';

// The operators' application settings (issue 29, items 9 to 11), read through
// the real inventory loader, the stacks role's schema and the stack op, for
// the operators' inventory and the lab's rehearsal of it.

type Service = { environment?: Record<string, string>; secrets?: (string | { source: string })[] };
type Inv = Awaited<ReturnType<typeof loadInventories>>;

const homelab = () => loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
async function rehearsal(): Promise<Inv> {
  const file = path.join(scratchDir(), 'rehearsal.yml');
  writeFileSync(file, rehearsalInventoryText());
  return loadInventories([file], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
}

/** Every stack as the stacks role deploys it from the first manager: its services after interpolation. */
function deployedServices(inv: Inv): Record<string, Service> {
  const vars = typedVars(stacksDefaults, inv.varsFor('gateway.vibe.local'), 'stacks', 'gateway.vibe.local');
  const services: Record<string, Service> = {};
  for (const s of vars.stacks) {
    const op = stack({ name: s.name, file: s.file, env: stackEnv(vars, s), images: vars.stack_images });
    assert.deepEqual(op.problems, [], s.file);
    const parsed = (op.params as { parsed: { services: Record<string, Service> } }).parsed;
    for (const [name, svc] of Object.entries(parsed.services)) services[`${s.name}_${name}`] = svc;
  }
  return services;
}

const secretNames = (svc: Service) => (svc.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));

for (const [label, load] of [['homelab.yml', homelab], ['the rehearsal', rehearsal]] as const) {
  test(`${label}: Gitea and n8n are told the operators' public names, not localhost`, async () => {
    const services = deployedServices(await load());
    const gitea = services.data_gitea!.environment!;
    assert.equal(gitea.GITEA__server__DOMAIN, 'git.vibe.yourdomain.com');
    assert.equal(gitea.GITEA__server__ROOT_URL, 'https://git.vibe.yourdomain.com/');
    assert.equal(gitea.GITEA__server__SSH_DOMAIN, 'git.vibe.yourdomain.com');
    const n8n = services.gateway_n8n!.environment!;
    assert.equal(n8n.N8N_HOST, 'n8n.vibe.yourdomain.com');
    assert.equal(n8n.N8N_PROTOCOL, 'https');
    assert.equal(n8n.WEBHOOK_URL, 'https://n8n.vibe.yourdomain.com/');
  });

  test(`${label}: LangGraph logs in as its own role to its own database, made by the databases role and backed up`, async () => {
    const inv = await load();
    const langgraph = deployedServices(inv).ai_langgraph!;
    assert.equal(langgraph.environment!.DATABASE_NAME, 'langgraph');
    assert.equal(langgraph.environment!.DATABASE_USER, 'langgraph');
    assert.equal(langgraph.environment!.DATABASE_PASSWORD_FILE, '/run/secrets/langgraph_db_password');
    assert.deepEqual(secretNames(langgraph), ['langgraph_db_password'], "never the superuser's postgres_password");
    const stacks = typedVars(stacksDefaults, inv.varsFor('gateway.vibe.local'), 'stacks', 'gateway.vibe.local');
    const dbs = typedVars(databasesDefaults, inv.varsFor('data.vibe.local'), 'databases', 'data.vibe.local');
    const own = dbs.app_databases.find((d) => d.name === 'langgraph');
    assert.equal(own?.owner, 'langgraph');
    // The swarm secret LangGraph reads is the password the databases role gives its role.
    assert.equal(own.password.reveal(), stacks.stack_secrets.langgraph_db_password!.reveal());
    assert.notEqual(own.password.reveal(), stacks.stack_secrets.postgres_password!.reveal());
    const backups = backupVars.parse(Object.fromEntries([...inv.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value])));
    assert.ok(backups.backup_items.some((i) => i.kind === 'postgres' && i.database === 'langgraph' && i.owner === 'langgraph'), 'the langgraph database is dumped with the others');
  });

  test(`${label}: the runner's labels and the registry's delete are the operators'`, async () => {
    const services = deployedServices(await load());
    assert.equal(services.cicd_act_runner!.environment!.GITEA_RUNNER_LABELS, 'jetson,nvidia,arm64');
    assert.equal(services.cicd_registry!.environment!.REGISTRY_STORAGE_DELETE_ENABLED, 'true');
  });

  test(`${label}: the operators' compose files are backed up from /opt/docker-compose on every node`, async () => {
    const inv = await load();
    for (const host of inv.hostNames()) {
      const v = backupVars.parse(Object.fromEntries([...inv.varsFor(host)].map(([k, val]) => [k, val.value])));
      const present = v.backup_items.flatMap((i) => (i.kind === 'config' ? i.paths_if_present : []));
      assert.ok(present.includes('/opt/docker-compose'), `${host}: ${present.join(' ')}`);
      assert.ok(!present.includes('/docker-compose'), `${host}: the typo of the operators' backup script is gone`);
    }
  });
}

test('the public names follow gitea_domain and n8n_host when only those are set; a bad value names its variable', () => {
  const vars = (v: Record<string, unknown>) => new Map(Object.entries(v).map(([k, value]) => [k, { value, origin: 'test' }]));
  const v = typedVars(stacksDefaults, vars({ gitea_domain: 'git.example.org', n8n_host: 'flows.example.org', n8n_protocol: 'http' }) as never, 'stacks', 'h');
  const env = stackEnv(v, { env: {} });
  assert.equal(env.GITEA_ROOT_URL, 'https://git.example.org/');
  assert.equal(env.GITEA_SSH_DOMAIN, 'git.example.org');
  assert.equal(env.N8N_WEBHOOK_URL, 'http://flows.example.org/');
  // A stack's own env still wins over the role's.
  assert.equal(stackEnv(v, { env: { GITEA_DOMAIN: 'other.example.org' } }).GITEA_DOMAIN, 'other.example.org');
  // With nothing set, the operators' values (000 section 6.1).
  assert.equal(stackEnv(typedVars(stacksDefaults, vars({}) as never, 'stacks', 'h'), { env: {} }).N8N_WEBHOOK_URL, 'https://n8n.vibe.yourdomain.com/');
  assert.throws(() => typedVars(stacksDefaults, vars({ gitea_domain: 'https://git.example.org' }) as never, 'stacks', 'h'), /gitea_domain/);
  assert.throws(() => typedVars(stacksDefaults, vars({ n8n_webhook_url: 'ftp://x.example.org/' }) as never, 'stacks', 'h'), /n8n_webhook_url/);
});

test('stack secrets stay Secrets: the LangGraph password is a !vault value', async () => {
  const inv = await homelab();
  const v = typedVars(stacksDefaults, inv.varsFor('gateway.vibe.local'), 'stacks', 'gateway.vibe.local');
  assert.ok(v.stack_secrets.langgraph_db_password instanceof Secret);
});

for (const [label, load] of [['homelab.yml', homelab], ['the rehearsal', rehearsal]] as const) {
  test(`${label}: the daily check reads the operators' HTTPS certificates`, async () => {
    const inv = await load();
    const v = typedVars(dailyCheckVars, inv.varsFor('gateway.vibe.local'), 'daily-check', 'gateway.vibe.local');
    assert.deepEqual(v.daily_tls_endpoints, ['vibe.yourdomain.com:443', 'git.vibe.yourdomain.com:443', 'n8n.vibe.yourdomain.com:443']);
    const op = ops.daily.swarm({ tlsEndpoints: v.daily_tls_endpoints, certWarnDays: v.daily_cert_warn_days });
    assert.deepEqual(op.problems, []);
    assert.match(op.describe(), /3 certificates/);
  });
}

test('a daily_tls_endpoints entry that is not HOST:PORT is refused at the inventory, naming the variable', () => {
  const vars = new Map([['daily_tls_endpoints', { value: ['https://git.example.org'], origin: 'test' }]]);
  assert.throws(() => typedVars(dailyCheckVars, vars as never, 'daily-check', 'h'), /daily_tls_endpoints/);
});

test("the rehearsal's LangGraph stand-in reads the database variables the real stack sets, and so logs in as langgraph", async () => {
  const services = deployedServices(await homelab());
  const env = services.ai_langgraph!.environment!;
  const spec = STANDINS['cicd.vibe.local:5000/vibe/langgraph-agent:1.4.0']!;
  assert.ok(spec.db, 'the stand-in holds a database connection, as the real agent does');
  assert.deepEqual([env[spec.db.host], env[spec.db.name], env[spec.db.user], env[spec.db.password_file]], ['postgres', 'langgraph', 'langgraph', '/run/secrets/langgraph_db_password']);
  for (const v of spec.files ?? []) assert.ok(env[v]?.startsWith('/run/secrets/'), `${v} names a swarm secret's file`);
});
