// The stacks play as site.ts runs it (playbooks/cluster.ts), on local hosts
// standing in for a manager and a worker, with the stand-in docker and curl:
// each node pulls the images its placement allows before the manager
// deploys, and a node's stalled pull stops the play before any deploy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLUSTER_PLAYS } from '../../playbooks/cluster.ts';
import { runPlays, scratchDir } from '../helpers/run.ts';
import { pullStandins } from '../helpers/pull-standins.ts';

const standins = pullStandins();
process.env.PATH = `${standins.bin}:${process.env.PATH}`;
process.env.PULL_STATE = standins.state;
after(() => {
  const file = path.join(standins.state, 'sleep.pid');
  if (existsSync(file)) {
    try {
      process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test("a worker's stalled pull fails the stacks play before the first manager deploys anything; the manager, which runs none of the stack, pulls nothing", async () => {
  writeFileSync(path.join(standins.state, 'have', 'there'), '');
  const inv = path.join(scratchDir(), 'hosts.yml');
  writeFileSync(
    inv,
    `all:
  vars:
    ansible_connection: local
    image_pull_stall_seconds: 1
    stacks:
      - { name: lab, file: stacks/lab.yml, env: { WEB_IMAGE: 'reg.lab:5000/lab/web:stall', POSTGRES_IMAGE: 'reg.lab:5000/lab/postgres:there' } }
  children:
    managers:
      hosts:
        gm: {}
    workers:
      hosts:
        w1: { node_role: data }
`,
  );
  const o = await runPlays(inv, [CLUSTER_PLAYS.stacks()]);
  const pulled = o.statuses.get('images pulled')!;
  assert.equal(pulled.get('gm'), 'skipped');
  assert.equal(pulled.get('w1'), 'failed');
  const failure = o.events.find((e) => e.type === 'task-host' && e.task === 'images pulled' && e.host === 'w1');
  assert.match(failure && failure.type === 'task-host' ? (failure.msg ?? '') : '', /^w1: pulling reg\.lab:5000\/lab\/web:stall: no progress for 1 s/);
  assert.deepEqual(readFileSync(path.join(standins.state, 'calls'), 'utf8').trim().split('\n'), ['http://localhost/images/create?fromImage=reg.lab%3A5000%2Flab%2Fweb&tag=stall'], 'the present image was not pulled');
  assert.equal(o.statuses.get('stacks deployed'), undefined, 'the manager deployed nothing');
  assert.equal(o.summary.exitCode, 2);
});
