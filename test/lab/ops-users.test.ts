import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { definePlay, ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { runPlays } from '../helpers/run.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
const HOST = 'ai';
before(async () => {
  inv = ensureLab();
  await onNode(inv, HOST, sh`userdel -r riggeruser 2>/dev/null; groupdel riggers 2>/dev/null; groupdel riggerops 2>/dev/null; rm -f /etc/ssh/sshd_config.d/50-rigger.conf /etc/sysctl.d/60-rigger-*; sysctl -q -w net.core.somaxconn=4096; true`);
});
const read = async (cmd: ReturnType<typeof sh>) => (await onNode(inv, HOST, cmd)).stdout;

test('sysctl: live value and its sysctl.d file', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.system.sysctl({ name: 'net.core.somaxconn', value: v === 'first' ? 1024 : 2048 }),
    verify: async (v) => {
      const want = v === 'first' ? '1024' : '2048';
      assert.equal((await read(sh`sysctl -n net.core.somaxconn`)).trim(), want);
      assert.match(await read(sh`cat /etc/sysctl.d/60-rigger-net.core.somaxconn.conf`), new RegExp(`^net\\.core\\.somaxconn = ${want}$`, 'm'));
    },
  });
});

test('groups and users: created, then changed field by field', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.system.group({ name: 'riggers', gid: v === 'first' ? 3100 : 3101 }),
    verify: async (v) => assert.equal((await read(sh`getent group riggers | cut -d: -f3`)).trim(), v === 'first' ? '3100' : '3101'),
  });
  await onNode(inv, HOST, sh`groupadd riggerops`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.system.user({ name: 'riggeruser', shell: v === 'first' ? '/bin/sh' : '/bin/bash', groups: v === 'first' ? ['riggers'] : ['riggers', 'riggerops'] }),
    verify: async (v) => {
      const [pw, groups] = (await read(sh`getent passwd riggeruser; id -nG riggeruser`)).trim().split('\n');
      assert.equal(pw!.split(':')[6], v === 'first' ? '/bin/sh' : '/bin/bash');
      assert.deepEqual(groups!.split(' ').slice(1).sort(), v === 'first' ? ['riggers'] : ['riggerops', 'riggers']);
      assert.equal((await read(sh`test -d /home/riggeruser && echo home`)).trim(), 'home');
    },
  });
});

test('authorized key: added beside other keys, then removed', async () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@rigger';
  await onNode(inv, HOST, sh`mkdir -p -m 700 /home/riggeruser/.ssh && echo 'ssh-rsa AAAAB3NzaOTHER other@x' > /home/riggeruser/.ssh/authorized_keys && chown -R riggeruser: /home/riggeruser/.ssh`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.system.authorizedKey({ user: 'riggeruser', key, state: v === 'first' ? 'present' : 'absent' }),
    verify: async (v) => {
      const [text, stat] = (await read(sh`cat /home/riggeruser/.ssh/authorized_keys; echo @@; stat -c '%a %U' /home/riggeruser/.ssh/authorized_keys`)).split('@@\n');
      assert.match(text!, /^ssh-rsa AAAAB3NzaOTHER other@x$/m, 'other keys kept');
      assert.equal(text!.includes(key), v === 'first');
      assert.equal(stat!.trim(), '600 riggeruser');
    },
  });
});

test('sshd config: validated with sshd -t before it replaces the old file, then reloaded', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.system.sshdConfig({ settings: v === 'first' ? { MaxAuthTries: 4, PermitRootLogin: 'prohibit-password' } : { MaxAuthTries: 5, PermitRootLogin: 'prohibit-password', AllowUsers: ['root', 'deploy'] } }),
    verify: async (v) => {
      const effective = await read(sh`sshd -T 2>/dev/null | grep -E '^(maxauthtries|allowusers) '`);
      assert.match(effective, new RegExp(`^maxauthtries ${v === 'first' ? 4 : 5}$`, 'm'));
      assert.equal(/^allowusers root$/m.test(effective), v === 'second');
    },
  });
  const before = await read(sh`cat /etc/ssh/sshd_config.d/50-rigger.conf`);
  const play = definePlay({ name: 'bad sshd', hosts: HOST, tasks: ({ task }) => [task({ name: 'typo', op: ops.system.sshdConfig({ settings: { PermitRootLgoin: 'no' } }) })] });
  const o = await runPlays(inv, [play]);
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev?.type === 'task-host' && ev.status === 'failed' && /validation failed/.test(ev.msg ?? ''), JSON.stringify(ev));
  assert.equal(await read(sh`cat /etc/ssh/sshd_config.d/50-rigger.conf`), before, 'the old file stays');
  assert.equal((await read(sh`systemctl is-active ssh`)).trim(), 'active');
});

// DSM 7, and distributions older than OpenSSH 8.2's Include, read no drop-in: the settings go into the main
// file, before its Match block, and the sshd unit (not Debian's ssh) is reloaded. The node's own files come back after.
test('sshd config where the main file includes no drop-in: the main file edited before its Match block, checked with sshd -t, reloaded', async () => {
  await onNode(inv, HOST, sh`cp -a /etc/ssh/sshd_config /root/sshd_config.orig && sed -i '/^Include /d' /etc/ssh/sshd_config && printf '\nMatch User nobody\n  MaxAuthTries 2\n' >> /etc/ssh/sshd_config && rm -f /etc/ssh/sshd_config.d/50-rigger.conf`);
  try {
    await sixSteps({
      inventory: inv,
      host: HOST,
      op: (v) => ops.system.sshdConfig({ settings: { MaxAuthTries: v === 'first' ? 4 : 5, PermitRootLogin: 'prohibit-password' } }),
      verify: async (v) => {
        const effective = await read(sh`sshd -T -C user=root,host=h,addr=127.0.0.1 | grep -E '^maxauthtries '; sshd -T -C user=nobody,host=h,addr=127.0.0.1 | grep -E '^maxauthtries '; test ! -e /etc/ssh/sshd_config.d/50-rigger.conf && echo no-drop-in`);
        assert.deepEqual(effective.trim().split('\n'), [`maxauthtries ${v === 'first' ? 4 : 5}`, 'maxauthtries 2', 'no-drop-in']);
      },
    });
    const play = definePlay({ name: 'bad sshd', hosts: HOST, tasks: ({ task }) => [task({ name: 'typo', op: ops.system.sshdConfig({ settings: { PermitRootLgoin: 'no' } }) })] });
    const before = await read(sh`cat /etc/ssh/sshd_config`);
    const o = await runPlays(inv, [play]);
    const ev = o.events.find((e) => e.type === 'task-host');
    assert.ok(ev?.type === 'task-host' && ev.status === 'failed' && /validation failed/.test(ev.msg ?? ''), JSON.stringify(ev));
    assert.equal(await read(sh`cat /etc/ssh/sshd_config`), before, 'the main file stays as it was');
    assert.equal((await read(sh`systemctl is-active ssh`)).trim(), 'active');
  } finally {
    await onNode(inv, HOST, sh`mv /root/sshd_config.orig /etc/ssh/sshd_config && systemctl reload ssh`);
  }
});
