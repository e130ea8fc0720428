import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { typedVars } from '../../lib/runner/host-vars.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { externalNetworks, externalSecrets, interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { stack } from '../../lib/ops/docker/stack.ts';
import { CLUSTER_PLAYS, CLUSTER_ROLES } from '../../playbooks/cluster.ts';
import { realStacks } from '../../scripts/lab/rehearsal.ts';

// The real cluster's inventory and stack files are parsed and validated
// here; nothing connects to the 192.168.x.x hosts they name.
const inventory = () => loadInventories(['inventory/homelab.yml'], { vaultPassphrase: () => 'homelab-example' });

test("every role's variables validate for every host of the real cluster's inventory", async () => {
  const inv = await inventory();
  for (const name of CLUSTER_ROLES) {
    const play = CLUSTER_PLAYS[name]();
    for (const role of play.options.roles ?? []) {
      for (const host of inv.hostNames()) typedVars(role.defaults, inv.varsFor(host), role.name, host);
    }
  }
  const vars = typedVars(CLUSTER_PLAYS.stacks().options.roles![0]!.defaults, inv.varsFor('gateway.vibe.local'), 'stacks', 'gateway.vibe.local') as { stack_secrets: Record<string, Secret> };
  assert.ok(Object.values(vars.stack_secrets).every((s) => s instanceof Secret), 'stack secrets are Secrets');
  const monitoring = typedVars(CLUSTER_PLAYS.monitoring().options.roles![0]!.defaults, inv.varsFor('gateway.vibe.local'), 'monitoring', 'gateway.vibe.local') as { monitoring_enabled: boolean; monitoring_slack?: { webhook_url: Secret; channel: string } };
  assert.equal(monitoring.monitoring_enabled, true);
  assert.ok(monitoring.monitoring_slack?.webhook_url instanceof Secret, "the operators' Slack receiver, its URL a !vault value");
  assert.equal(monitoring.monitoring_slack.channel, '#alerts');
});

test("the four real stacks and the monitoring role's parse, validate, and use only networks and secrets the inventory provides", async () => {
  const inv = await inventory();
  const all = Object.fromEntries([...inv.varsFor('gateway.vibe.local')].map(([k, v]) => [k, v.value])) as {
    stacks: { name: string; file: string; env?: Record<string, string> }[];
    overlay_networks: string[];
    stack_secrets: Record<string, unknown>;
  };
  // cicd before ai: its registry serves LangGraph's image (roles/stacks/order.ts).
  assert.deepEqual(all.stacks.map((s) => s.name), ['gateway', 'data', 'cicd', 'ai']);
  // The monitoring stack with the values its role deploys it with (homelab.yml turns it on).
  const stacks = realStacks();
  assert.deepEqual(stacks.map((s) => s.name), ['gateway', 'data', 'cicd', 'ai', 'monitoring']);
  const services: string[] = [];
  for (const s of stacks) {
    const env = { ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress', ...s.env };
    const rendered = interpolate(readFileSync(s.file, 'utf8'), env);
    assert.deepEqual(rendered.problems, [], `${s.file}: every \${VAR} has a value`);
    const { compose, problems } = parseCompose(rendered.text);
    assert.deepEqual(problems, [], s.file);
    // host: Docker's own network (node-exporter's), not an overlay the inventory makes.
    for (const n of externalNetworks(compose!)) if (n !== 'host') assert.ok(all.overlay_networks.includes(n), `${s.file}: network ${n} is in overlay_networks`);
    for (const n of externalSecrets(compose!)) assert.ok(n in all.stack_secrets, `${s.file}: secret ${n} is in stack_secrets`);
    for (const [svc, def] of Object.entries(compose!.services)) {
      services.push(`${s.name}_${svc}`);
      assert.ok(def.deploy?.resources?.limits || def.deploy?.mode === 'global', `${s.file}: ${svc} has resource limits`);
    }
    const op = stack({ name: s.name, file: s.file, env });
    assert.deepEqual(op.problems, [], `${s.file}: the stack op accepts it`);
  }
  for (const s of ['gateway_portainer', 'gateway_npm', 'gateway_n8n', 'gateway_cloudflared', 'gateway_postgres', 'monitoring_prometheus', 'monitoring_grafana', 'monitoring_loki', 'monitoring_promtail', 'ai_sglang', 'ai_ollama', 'ai_langgraph', 'data_gitea', 'data_redmine', 'cicd_act_runner', 'cicd_registry']) {
    assert.ok(services.includes(s), `CLUSTER.md's ${s} is deployed`);
  }
  // Monitoring comes from the monitoring role's stack alone: two node-exporters on port 9100 would clash.
  assert.deepEqual(services.filter((x) => /(prometheus|grafana|loki|promtail|node-exporter)$/.test(x) && !x.startsWith('monitoring_')), []);
  const ai = readFileSync('stacks/ai.yml', 'utf8');
  assert.match(ai, /node\.labels\.role == ai/);
});

test('a compose file with a misspelt key, an undeclared network or a missing variable is refused with its line', () => {
  const typo = stack({ name: 'x', compose: 'services:\n  web:\n    image: nginx\n    deploy:\n      placment: {}\n', file: undefined });
  assert.match(typo.problems[0]!.message, /^compose:5:7: services\.web\.deploy: Unrecognized key: "placment"/);
  const net = parseCompose('services:\n  web:\n    image: nginx\n    networks: [nowhere]\n');
  assert.match(net.problems[0]!.message, /nowhere is not declared under top-level networks/);
  assert.equal(net.problems[0]!.line, 4);
  const missing = stack({ name: 'x', compose: 'services:\n  web:\n    image: ${IMAGE}\n' });
  assert.match(missing.problems[0]!.message, /compose:3:12: \$\{IMAGE\} has no value/);
  const file = stack({ name: 'x', file: 'stacks/none.yml' });
  assert.match(file.problems[0]!.message, /cannot read stacks\/none\.yml: ENOENT/);
  assert.equal(interpolate('a: $$HOME ${X:-d} ${Y-e}', { Y: '' }).text, 'a: $HOME d ');
});
