import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ops } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import { parsePackages } from '../../lib/ops/apt/packages.ts';
import { sourcesText } from '../../lib/ops/apt/repository.ts';
import { parseShow } from '../../lib/ops/systemd/service.ts';
import { findEntry, formatEntry, setEntry } from '../../lib/ops/mount/fstab.ts';
import { parseMountState } from '../../lib/ops/mount/mount.ts';
import { cronText } from '../../lib/ops/cron/entry.ts';
import { sshdText } from '../../lib/ops/system/sshd-config.ts';
import { iptablesText, parseUfw } from '../../lib/ops/firewall/rules.ts';
import { parseOsRelease, parseDf, parseFindmnt } from '../../lib/facts/system.ts';
import { parseGpu } from '../../lib/facts/gpu.ts';
import { parseDockerInfo } from '../../lib/facts/docker.ts';

const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(state);
};
const commands = (d: ReturnType<typeof decide>) => (d.kind === 'change' ? (d.commands ?? []).map((c) => c.display()) : []);

test('apt: probe output parsed; install only what is missing, update only a stale cache', () => {
  const s = parsePackages('tree\tii \t2.1.0-1\nfile\trc \t1:5.44-3\n@@cache\n120\n@@policy\n');
  assert.deepEqual([...s.installed], [['tree', '2.1.0-1']]);
  assert.equal(s.cacheAge, 120);
  assert.equal(decide(ops.apt.packages({ names: ['tree'] }), s).kind, 'ok');
  assert.equal(decide(ops.apt.packages({ names: ['tree'], updateCache: true }), s).kind, 'ok', 'cache 120 s old is fresh');
  const stale = decide(ops.apt.packages({ names: ['tree'], updateCache: true, cacheValidSeconds: 60 }), s);
  assert.match(commands(stale).join('\n'), /apt-get .* update/);
  const install = commands(decide(ops.apt.packages({ names: ['tree', 'file'] }), s));
  assert.equal(install.length, 1);
  assert.match(install[0]!, /^DEBIAN_FRONTEND=noninteractive apt-get .*-y -q --no-install-recommends install -- file$/);
  assert.match(commands(decide(ops.apt.packages({ names: ['tree'], state: 'absent', purge: true }), s))[0]!, /purge -- tree$/);
  const latest = parsePackages('tree\tii \t2.0\n@@cache\nnever\n@@policy\ntree:\n  Installed: 2.0\n  Candidate: 2.1\n');
  assert.equal(latest.cacheAge, Infinity);
  assert.match(commands(decide(ops.apt.packages({ names: ['tree'], state: 'latest' }), latest))[0]!, /install -- tree$/);
  assert.match(ops.apt.packages({ names: ['Bad Name'] }).problems[0]!.message, /Debian package name/);
});

test('apt repository renders deb822 with Signed-By', () => {
  const text = sourcesText({ name: 'docker', uris: ['https://download.docker.com/linux/debian'], suites: ['bookworm'], components: ['stable'], architectures: ['amd64'], key: { url: 'https://x/gpg' }, state: 'present', updateCache: true });
  assert.equal(text, '# Managed by rigger\nTypes: deb\nURIs: https://download.docker.com/linux/debian\nSuites: bookworm\nComponents: stable\nArchitectures: amd64\nSigned-By: /etc/apt/keyrings/docker.asc\n');
});

test('systemd service: daemon-reload only when systemd asks for it; start/enable only what differs', () => {
  const s = parseShow('LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\nNeedDaemonReload=no\n');
  assert.deepEqual(commands(decide(ops.systemd.service({ name: 'x.service', state: 'started', enabled: true }), s)), ['systemctl start x.service', 'systemctl enable x.service']);
  const reload = parseShow('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=yes\n');
  assert.deepEqual(commands(decide(ops.systemd.service({ name: 'x.service', state: 'started', enabled: true }), reload)), ['systemctl daemon-reload']);
  assert.equal(decide(ops.systemd.service({ name: 'x.service', state: 'started' }), parseShow('LoadState=loaded\nActiveState=active\nUnitFileState=static\nNeedDaemonReload=no')).kind, 'ok');
  // A unit not installed yet (check mode before its package task): planned behind a guard that fails with a clear message.
  const missing = parseShow('LoadState=not-found\nActiveState=inactive');
  const planned = commands(decide(ops.systemd.service({ name: 'x.service', state: 'started', enabled: true }), missing));
  assert.match(planned[0]!, /systemctl cat x\.service .*not known to systemd/);
  assert.deepEqual(planned.slice(1), ['systemctl start x.service', 'systemctl enable x.service']);
  assert.equal(decide(ops.systemd.service({ name: 'x.service', state: 'stopped', enabled: false }), missing).kind, 'ok');
  assert.deepEqual(commands(decide(ops.systemd.service({ name: 'x.service', state: 'restarted' }), reload)), ['systemctl daemon-reload', 'systemctl restart x.service']);
});

test('fstab: entries compared field by field, replaced in place, spaces escaped', () => {
  const fstab = 'UUID=abc / ext4 defaults 0 1\n/old /mnt/x none bind 0 0\n';
  assert.deepEqual(findEntry(fstab, '/mnt/x'), { src: '/old', path: '/mnt/x', fstype: 'none', opts: 'bind', dump: 0, passno: 0 });
  const e = { src: '/srv/my data', path: '/mnt/x', fstype: 'none', opts: 'bind,ro', dump: 0, passno: 0 };
  assert.equal(formatEntry(e), '/srv/my\\040data\t/mnt/x\tnone\tbind,ro\t0\t0');
  assert.equal(setEntry(fstab, '/mnt/x', e), `UUID=abc / ext4 defaults 0 1\n/srv/my\\040data\t/mnt/x\tnone\tbind,ro\t0\t0\n`);
  assert.equal(setEntry(fstab, '/mnt/x', undefined), 'UUID=abc / ext4 defaults 0 1\n');
  assert.deepEqual(findEntry(formatEntry(e), '/mnt/x'), e);
  const mounted = parseMountState(`${fstab}@@findmnt\n/dev/vda[/old] ext4 rw,relatime\n`);
  assert.equal(decide(ops.mount({ path: '/mnt/x', src: '/old', fstype: 'none', opts: 'bind', state: 'mounted' }), mounted).kind, 'ok');
  const remount = commands(decide(ops.mount({ path: '/mnt/x', src: '/old', fstype: 'none', opts: 'bind,ro', state: 'mounted' }), mounted));
  assert.deepEqual(remount.slice(1), ['umount -- /mnt/x', 'mkdir -p -- /mnt/x', 'mount -- /mnt/x']);
  assert.deepEqual(commands(decide(ops.mount({ path: '/mnt/x', state: 'unmounted' }), mounted)), ['umount -- /mnt/x']);
});

test('cron text, sshd drop-in text, sysctl decisions', () => {
  assert.equal(
    cronText({ name: 'b', schedule: '0 2 * * *', command: 'run', user: 'root', env: { MAILTO: '' }, state: 'present' }),
    // An empty value is written quoted twice, as every value that is not a plain word: cron reads it back as '' (test/unit/cron-entry.test.ts runs it).
    `# Managed by rigger: b\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\nMAILTO='""'\n0 2 * * * root run\n`,
  );
  assert.equal(sshdText({ Port: 222, AllowUsers: ['deploy', 'admin'] }), '# Managed by rigger\nPort 222\nAllowUsers deploy admin\n');
  const sys = { live: '4096', error: '', file: '# Managed by rigger\nnet.core.somaxconn = 4096\n' };
  assert.equal(decide(ops.system.sysctl({ name: 'net.core.somaxconn', value: 4096 }), sys).kind, 'ok');
  assert.deepEqual(commands(decide(ops.system.sysctl({ name: 'net.core.somaxconn', value: 1024, persist: false }), sys)), ['sysctl -q -w net.core.somaxconn=1024']);
  assert.equal(decide(ops.system.sysctl({ name: 'no.such.key', value: 1 }), { live: undefined, error: 'unknown key', file: '' }).kind, 'fail');
});

test('users: only differing fields change; groups exact unless appending', () => {
  const s = { passwd: ['app', 'x', '1001', '1001', '', '/home/app', '/bin/sh'], groups: ['app', 'docker'] };
  assert.equal(decide(ops.system.user({ name: 'app', shell: '/bin/sh', groups: ['docker'] }), s).kind, 'ok');
  assert.deepEqual(commands(decide(ops.system.user({ name: 'app', shell: '/bin/bash' }), s)), ['usermod --shell /bin/bash app']);
  assert.deepEqual(commands(decide(ops.system.user({ name: 'app', groups: ['sudo'], append: true }), s)), ['usermod --append --groups sudo app']);
  assert.deepEqual(commands(decide(ops.system.user({ name: 'app', groups: ['sudo'] }), s)), ['usermod --groups sudo app']);
  assert.match(commands(decide(ops.system.user({ name: 'new', uid: 2000 }), { passwd: [], groups: [] }))[0]!, /^useradd --uid 2000 --create-home new$/);
});

test('firewall: ufw rules read from user.rules tuples; iptables chain text keeps SSH first', () => {
  const ufw = parseUfw('Status: active\n@@rules\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 2377 0.0.0.0/0 any 0.0.0.0/0 in comment=73776172\n');
  assert.deepEqual([...ufw.allowed], ['tcp 22 0.0.0.0/0', 'tcp 2377 0.0.0.0/0']);
  assert.equal(decide(ops.firewall({ backend: 'ufw', rules: [{ port: 2377, proto: 'tcp' }] }), ufw).kind, 'ok');
  // ufw writes a single source address without /32: the same rule, not a new one on every run.
  const single = parseUfw('Status: active\n@@rules\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 5432 0.0.0.0/0 any 10.0.0.2 in\n');
  assert.equal(decide(ops.firewall({ backend: 'ufw', rules: [{ port: 5432, proto: 'tcp', from: '10.0.0.2' }] }), single).kind, 'ok');
  assert.deepEqual(commands(decide(ops.firewall({ backend: 'ufw', rules: [{ port: 4789, proto: 'udp', comment: 'vxlan' }] }), ufw)), ['ufw allow proto udp from any to any port 4789 comment vxlan']);
  const text = iptablesText({ backend: 'iptables', rules: [{ port: 2377, proto: 'tcp', from: '10.0.0.0/8' }], sshPort: 222, enabled: true });
  const lines = text.split('\n').filter((l) => l.startsWith('-A'));
  assert.deepEqual(lines, [
    '-A RIGGER-INPUT -i lo -j ACCEPT',
    '-A RIGGER-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A RIGGER-INPUT -p tcp -m tcp --dport 222 -m comment --comment "ssh (rigger keeps it open)" -j ACCEPT',
    '-A RIGGER-INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 2377 -j ACCEPT',
    '-A RIGGER-INPUT -j DROP',
  ]);
  // ufw not installed yet (check mode before the package task): planned behind a guard that names the package.
  const planned = commands(decide(ops.firewall({ backend: 'ufw', rules: [] }), parseUfw('@@missing')));
  assert.match(planned[0]!, /command -v ufw .*ufw is not installed/);
  assert.ok(planned.includes('ufw --force enable'));
});

test('fact parsers', () => {
  assert.deepEqual(parseOsRelease('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n'), { id: 'ubuntu', versionId: '22.04', codename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS', idLike: ['debian'] });
  assert.deepEqual(parseDf('/', '    Avail     1B-blocks\n 5000 10000\n'), { path: '/', availableBytes: 5000, sizeBytes: 10000 });
  assert.equal(parseFindmnt('{"filesystems":[{"target":"/","source":"overlay","fstype":"overlay","options":"rw"}]}')[0]!.fstype, 'overlay');
  assert.deepEqual(parseGpu('GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-1)\n@@driver\n535.183.01\n@@lspci\n'), { present: true, source: 'nvidia-smi', devices: ['GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-1)'], driverVersion: '535.183.01' });
  assert.equal(parseGpu('@@driver\n@@lspci\n01:00.0 VGA compatible controller: NVIDIA Corporation GA106 [GeForce RTX 3060]\n').source, 'lspci');
  assert.equal(parseGpu('@@driver\n@@lspci\n00:02.0 VGA compatible controller: Cirrus Logic\n').present, false);
  const info = parseDockerInfo(JSON.stringify({ ServerVersion: '20.10.24', Runtimes: { runc: {}, nvidia: {} }, Swarm: { LocalNodeState: 'active', NodeID: 'n1', NodeAddr: '10.0.0.1', ControlAvailable: true, Cluster: { ID: 'c1' }, Managers: 1, Nodes: 4 } }));
  assert.deepEqual(info.runtimes, ['nvidia', 'runc']);
  assert.deepEqual(info.swarm, { state: 'active', nodeId: 'n1', nodeAddr: '10.0.0.1', isManager: true, clusterId: 'c1', managers: 1, nodes: 4, error: '' });
  assert.equal(parseDockerInfo('@@missing').installed, false);
  assert.equal(parseDockerInfo('@@down').running, false);
});

test('hold, group, authorized key, unit, cron and sshd decisions', () => {
  assert.deepEqual(commands(decide(ops.apt.hold({ names: ['docker-ce', 'containerd.io'] }), new Set(['docker-ce']))), ['apt-mark hold containerd.io']);
  assert.equal(decide(ops.apt.hold({ names: ['docker-ce'], held: false }), new Set<string>()).kind, 'ok');
  assert.deepEqual(commands(decide(ops.system.group({ name: 'docker', gid: 999 }), ['docker', 'x', '998', ''])), ['groupmod --gid 999 docker']);
  assert.deepEqual(commands(decide(ops.system.group({ name: 'docker', system: true }), [''])), ['groupadd --system docker']);
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl new-comment';
  const keys = { home: '/home/d', ids: '1000:1000', keys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl old-comment\n' };
  assert.equal(decide(ops.system.authorizedKey({ user: 'd', key }), keys).kind, 'ok', 'same key, other comment');
  assert.equal(decide(ops.system.authorizedKey({ user: 'd', key }), undefined).kind, 'fail');
  const unit = decide(ops.systemd.unit({ name: 'a.service', content: '[Service]\n' }), { exists: false });
  assert.deepEqual(commands(unit).slice(1), ['systemctl daemon-reload'], 'daemon-reload right after the unit changed');
  const cron = decide(ops.cron({ name: 'b', schedule: '@daily', command: 'x', state: 'absent' }), { exists: true, type: 'file', mode: '0644' });
  assert.deepEqual(commands(cron), ['rm -f -- /etc/cron.d/b']);
  const sshd = decide(ops.system.sshdConfig({ settings: { PermitRootLogin: 'no' } }), { dropIn: { exists: false }, main: Buffer.from('Include /etc/ssh/sshd_config.d/*.conf\n'), mainMode: '0644' });
  assert.match(commands(sshd)[1]!, /sshd -t -f/);
  assert.match(commands(sshd)[2]!, /systemctl reload ssh/);
});
