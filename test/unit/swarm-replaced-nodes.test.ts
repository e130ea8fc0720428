// A node rebuilt after its disk was lost joins the swarm again as a new node
// under the same hostname; its old entry stays Down and Swarm keeps counting
// its tasks. Only that entry goes: not a node that is merely off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodeList, replacedBy } from '../../lib/ops/docker/replaced-nodes.ts';

// `docker node ls --format '{{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.ManagerStatus}}'` after ai was rebuilt while cicd is off.
const listed = ['m1\tgateway\tReady\tLeader', 'old-ai\tai\tDown\t', 'new-ai\tai\tReady\t', 'data1\tdata\tReady\t', 'cicd1\tcicd\tDown\t', 'old-mgr\tgateway\tDown\tUnreachable', ''].join('\n');

test('the Down entries that share the hostname of the node that joined now are the replaced ones', () => {
  const nodes = parseNodeList(listed);
  assert.equal(nodes.length, 6);
  assert.deepEqual(replacedBy(nodes, 'new-ai').map((n) => n.id), ['old-ai']);
  assert.deepEqual(replacedBy(nodes, 'm1').map((n) => [n.id, n.manager]), [['old-mgr', true]]);
});

test('a node that is off, and a node that is the only one of its name, leave nothing to remove', () => {
  const nodes = parseNodeList(listed);
  assert.deepEqual(replacedBy(nodes, 'data1'), []);
  assert.deepEqual(replacedBy(nodes, 'cicd1'), [], 'cicd is off, not replaced');
  assert.deepEqual(replacedBy(nodes, 'not-joined'), []);
});
