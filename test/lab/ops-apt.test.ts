import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { definePlay, ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { buildLocalRepo } from '../helpers/local-repo.ts';
import { onNode } from '../helpers/node.ts';
import { runPlays } from '../helpers/run.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
const HOST = 'data';
before(() => {
  inv = ensureLab();
});

const dpkg = async (name: string) => (await onNode(inv, HOST, sh`dpkg-query -W -f '\${db:Status-Abbrev}' ${name} 2>/dev/null || echo none`)).stdout.trim();
/** "ii" is installed; after a remove dpkg says "rc"/"un" or does not know the package. */
async function assertInstalled(name: string, installed: boolean) {
  const status = await dpkg(name);
  if (installed) assert.equal(status, 'ii', `${name} installed`);
  else assert.ok(status === 'none' || /^(rc|un)$/.test(status), `${name} not installed, dpkg says ${status}`);
}

test('apt packages from Debian: install with a stale cache updated first, then remove', async () => {
  await onNode(inv, HOST, sh`DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq tree >/dev/null 2>&1; rm -f /var/lib/rigger/apt-update-stamp`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.apt.packages({ names: ['tree'], state: v === 'first' ? 'present' : 'absent', updateCache: v === 'first' }),
    verify: async (v) => assertInstalled('tree', v === 'first'),
  });
  assert.notEqual(await dpkg('tree'), 'ii');
});

test('apt repository in deb822 form with its key in /etc/apt/keyrings, and a package installed from it', async () => {
  const repo = '/srv/rigger-repo';
  const built = await onNode(inv, HOST, buildLocalRepo(repo, [{ name: 'rigger-standin', version: '1.0' }]));
  assert.equal(built.code, 0, built.stderr);
  const key = built.stdout;
  assert.match(key, /BEGIN PGP PUBLIC KEY BLOCK/);
  await onNode(inv, HOST, sh`rm -f /etc/apt/sources.list.d/rigger-lab.sources /etc/apt/keyrings/rigger-lab.asc`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.apt.repository({ name: 'rigger-lab', uris: [`file:${repo}`], suites: ['./'], key: { content: key }, ...(v === 'second' ? { architectures: ['amd64'] } : {}) }),
    verify: async (v) => {
      const text = (await onNode(inv, HOST, sh`cat /etc/apt/sources.list.d/rigger-lab.sources; stat -c %a /etc/apt/keyrings/rigger-lab.asc`)).stdout;
      assert.match(text, new RegExp(`^URIs: file:${repo}$`, 'm'));
      assert.match(text, /^Signed-By: \/etc\/apt\/keyrings\/rigger-lab\.asc$/m);
      assert.equal(/^Architectures: amd64$/m.test(text), v === 'second');
      assert.match(text, /^644$/m);
    },
  });
  // The signature is really checked: the package installs from the signed repository.
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.apt.packages({ names: ['rigger-standin'], state: v === 'first' ? 'present' : 'absent' }),
    verify: async (v) => {
      await assertInstalled('rigger-standin', v === 'first');
      const marker = (await onNode(inv, HOST, sh`cat /usr/share/doc/rigger-standin/standin 2>/dev/null || echo none`)).stdout.trim();
      assert.equal(marker, v === 'first' ? 'rigger lab stand-in' : 'none');
    },
  });
});

test('a repository signed with another key than the one given is refused: apt-get update fails naming the signature, and its package cannot be installed', async () => {
  const repo = '/srv/rigger-repo-wrongkey';
  const built = await onNode(inv, HOST, buildLocalRepo(repo, [{ name: 'rigger-wrongkey', version: '1.0' }]));
  assert.equal(built.code, 0, built.stderr);
  // Another key: the one of a second repository (each build makes a key of its own).
  const other = await onNode(inv, HOST, buildLocalRepo('/srv/rigger-repo-otherkey', []));
  assert.equal(other.code, 0, other.stderr);
  assert.notEqual(other.stdout, built.stdout);
  const play = definePlay({
    name: 'wrong key',
    hosts: HOST,
    tasks: ({ task }) => [task({ name: 'repository', op: ops.apt.repository({ name: 'rigger-wrongkey', uris: [`file:${repo}`], suites: ['./'], key: { content: other.stdout } }) })],
  });
  try {
    const o = await runPlays(inv, [play]);
    const repository = o.events.find((e) => e.type === 'task-host' && e.task === 'repository');
    assert.ok(repository?.type === 'task-host' && repository.status === 'failed', `the repository task fails: ${JSON.stringify(repository)}`);
    assert.match(repository.msg ?? '', /NO_PUBKEY|not signed|signatures couldn't be verified/, repository.msg);
    assert.notEqual(o.summary.exitCode, 0);
    // The next run's install from it fails too: apt has no candidate from a repository it does not trust.
    const install = await runPlays(inv, [definePlay({ name: 'install', hosts: HOST, tasks: ({ task }) => [task({ name: 'package', op: ops.apt.packages({ names: ['rigger-wrongkey'] }) })] })]);
    const pkg = install.events.find((e) => e.type === 'task-host' && e.task === 'package');
    assert.ok(pkg?.type === 'task-host' && pkg.status === 'failed', `installing from it fails: ${JSON.stringify(pkg)}`);
    await assertInstalled('rigger-wrongkey', false);
  } finally {
    // apt-get update must work again for every later test and suite.
    await onNode(inv, HOST, sh`rm -f /etc/apt/sources.list.d/rigger-wrongkey.sources /etc/apt/keyrings/rigger-wrongkey.asc; rm -rf ${repo} /srv/rigger-repo-otherkey; apt-get update -qq >/dev/null 2>&1`);
  }
});

test('apt hold and unhold', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.apt.hold({ names: ['tree'], held: v === 'first' }),
    verify: async (v) => assert.equal((await onNode(inv, HOST, sh`apt-mark showhold`)).stdout.includes('tree'), v === 'first'),
  });
});
