import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { raw, sh } from '../../lib/shell/command.ts';
import { convergedRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { stackEnvironment } from '../helpers/standin.ts';

// The real stacks' values arriving in the stand-ins (issue 29, "stand-ins as strict as the real systems"):
// the stand-ins compute what the real programs compute from their environment (scripts/lab/standin.py), so on
// the converged rehearsal Gitea's clone URLs, n8n's webhook base, the runner's registered labels and the
// registry's deletes show what inventory/homelab.yml and the stack files give the real cluster. The unit tests
// test/unit/standin-*.test.ts show each stand-in refusing what its upstream refuses.
let inv: string;
before(async () => {
  inv = await convergedRehearsal();
});

const vars = (parseDocument(readFileSync('inventory/homelab.yml', 'utf8')).getIn(['all', 'vars']) as { toJSON(): Record<string, string> }).toJSON();

/** A command run inside the service's task on its node (the stand-in image has python3, not curl). */
const inTask = (node: string, service: string, script: string) =>
  onNode(inv, node, sh`docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=${service} | head -n1) ${raw(script)}`);

test("Gitea's clone URLs name homelab.yml's gitea_root_url and gitea_ssh_domain, on the port data.yml publishes", async () => {
  // Published in host mode on the data node: what a user's browser and git client are told.
  const r = await onNode(inv, 'data', sh`curl -fsS -m 5 http://127.0.0.1:3000/api/v1/repos/vibe/app`);
  assert.equal(r.code, 0, r.stderr);
  const repo = JSON.parse(r.stdout) as { clone_url: string; ssh_url: string };
  assert.ok(repo.clone_url.startsWith(vars.gitea_root_url!), `${repo.clone_url} starts with ${vars.gitea_root_url}`);
  assert.equal(repo.ssh_url, `ssh://git@${vars.gitea_ssh_domain}:${stackEnvironment('data', 'gitea').GITEA__server__SSH_PORT}/vibe/app.git`);
});

test("n8n's webhook base is homelab.yml's n8n_webhook_url", async () => {
  const r = await inTask('gateway', 'gateway_n8n', `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5678/rest/settings", timeout=5).read().decode())'`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { data: { urlBaseWebhook: string } }).data.urlBaseWebhook, vars.n8n_webhook_url);
});

test("the runner registered with stacks/cicd.yml's labels into its volume's .runner", async () => {
  const r = await inTask('cicd', 'cicd_act_runner', 'cat /data/.runner');
  assert.equal(r.code, 0, r.stderr);
  const reg = JSON.parse(r.stdout) as { labels: string[]; address: string };
  const env = stackEnvironment('cicd', 'act_runner');
  assert.deepEqual(reg.labels, env.GITEA_RUNNER_LABELS!.split(','));
  assert.equal(reg.address, env.GITEA_INSTANCE_URL);
});

test("the registry deletes a manifest by digest (stacks/cicd.yml's REGISTRY_STORAGE_DELETE_ENABLED), through its published port", async () => {
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: {}, layers: [] });
  const base = 'http://127.0.0.1:5000/v2/rehearsal/standins/manifests';
  const put = await onNode(inv, 'cicd', sh`curl -sS -m 5 -o /dev/null -D - -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary ${manifest} ${`${base}/probe`}`);
  assert.match(put.stdout, /^HTTP\/1\.[01] 201/, put.stdout + put.stderr);
  const digest = /^docker-content-digest: (sha256:[0-9a-f]{64})/im.exec(put.stdout)?.[1];
  assert.ok(digest, put.stdout);
  const status = async (method: string) => (await onNode(inv, 'cicd', sh`curl -sS -m 5 -o /dev/null -w '%{http_code}' -X ${method} ${`${base}/${digest}`}`)).stdout;
  assert.equal(await status('DELETE'), '202');
  assert.equal(await status('GET'), '404', 'gone');
});
