import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/core/command.ts';
import { ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { buildLocalRepo } from '../helpers/local-repo.ts';
import { onNode } from '../helpers/node.ts';
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

test('apt hold and unhold', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.apt.hold({ names: ['tree'], held: v === 'first' }),
    verify: async (v) => assert.equal((await onNode(inv, HOST, sh`apt-mark showhold`)).stdout.includes('tree'), v === 'first'),
  });
});
