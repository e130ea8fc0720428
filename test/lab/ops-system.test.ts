import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { ops } from '../../lib/index.ts';
import { ensureLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
const HOST = 'cicd';
before(() => {
  inv = ensureLab();
});
const read = async (cmd: ReturnType<typeof sh>) => (await onNode(inv, HOST, cmd)).stdout;

const serviceUnit = (msg: string) => `[Unit]\nDescription=rigger test ${msg}\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`;

test('systemd unit file: written, daemon-reload only when it changed', async () => {
  await onNode(inv, HOST, sh`systemctl disable --now rigger-test.service 2>/dev/null; rm -f /etc/systemd/system/rigger-test.service; systemctl daemon-reload`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.systemd.unit({ name: 'rigger-test.service', content: serviceUnit(v) }),
    verify: async (v) => {
      assert.equal(await read(sh`cat /etc/systemd/system/rigger-test.service`), serviceUnit(v));
      assert.match(await read(sh`systemctl show rigger-test.service -p NeedDaemonReload`), /^NeedDaemonReload=no$/m);
      assert.match(await read(sh`systemctl show rigger-test.service -p Description`), new RegExp(`^Description=rigger test ${v}$`, 'm'));
    },
  });
});

test('systemd service: started and enabled, then stopped and disabled', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.systemd.service({ name: 'rigger-test.service', state: v === 'first' ? 'started' : 'stopped', enabled: v === 'first' }),
    verify: async (v) => {
      const [active, enabled] = (await read(sh`systemctl is-active rigger-test.service; systemctl is-enabled rigger-test.service`)).trim().split('\n');
      assert.equal(active, v === 'first' ? 'active' : 'inactive');
      assert.equal(enabled, v === 'first' ? 'enabled' : 'disabled');
    },
  });
});

test('systemd timer: unit files plus an enabled, started timer with the expected schedule', async () => {
  await onNode(inv, HOST, sh`systemctl disable --now rigger-nightly.timer 2>/dev/null; rm -f /etc/systemd/system/rigger-nightly.*; systemctl daemon-reload`);
  const { definePlay } = await import('../../lib/index.ts');
  const { runPlays } = await import('../helpers/run.ts');
  const timer = (at: string) => `[Unit]\nDescription=rigger nightly\n[Timer]\nOnCalendar=*-*-* ${at}\nPersistent=true\n[Install]\nWantedBy=timers.target\n`;
  const setup = definePlay({
    name: 'timer units',
    hosts: HOST,
    tasks: ({ task }) => [
      task({ name: 'service', op: ops.systemd.unit({ name: 'rigger-nightly.service', content: '[Service]\nType=oneshot\nExecStart=/bin/true\n' }) }),
      task({ name: 'timer', op: ops.systemd.unit({ name: 'rigger-nightly.timer', content: timer('02:00:00') }) }),
    ],
  });
  assert.equal((await runPlays(inv, [setup])).summary.exitCode, 0);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.systemd.service({ name: 'rigger-nightly.timer', state: v === 'first' ? 'started' : 'stopped', enabled: v === 'first' }),
    verify: async (v) => {
      assert.equal((await read(sh`systemctl is-enabled rigger-nightly.timer; systemctl is-active rigger-nightly.timer`)).trim(), v === 'first' ? 'enabled\nactive' : 'disabled\ninactive');
      if (v === 'first') {
        // list-timers shows only active timers, with the next run time.
        assert.match(await read(sh`systemctl list-timers --all --no-legend rigger-nightly.timer`), /02:00:00 \S+ .*rigger-nightly\.timer/);
        assert.match(await read(sh`systemctl show rigger-nightly.timer -p NextElapseUSecRealtime --value`), /02:00:00/);
      }
    },
  });
});

test('mount: fstab entry compared field by field and the live mount (a bind mount; the lab kernel has no NFS)', async () => {
  await onNode(inv, HOST, sh`umount /mnt/rigger-bind 2>/dev/null; sed -i '\\#/mnt/rigger-bind#d' /etc/fstab; mkdir -p /srv/rigger-test/mnt-src && echo inside > /srv/rigger-test/mnt-src/file`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.mount({ path: '/mnt/rigger-bind', src: '/srv/rigger-test/mnt-src', fstype: 'none', opts: v === 'first' ? 'bind' : 'bind,ro', state: 'mounted' }),
    verify: async (v) => {
      assert.match(await read(sh`cat /etc/fstab`), new RegExp(`^/srv/rigger-test/mnt-src\\t/mnt/rigger-bind\\tnone\\t${v === 'first' ? 'bind' : 'bind,ro'}\\t0\\t0$`, 'm'));
      assert.equal(await read(sh`cat /mnt/rigger-bind/file`), 'inside\n');
      const opts = await read(sh`findmnt -rn -o OPTIONS --mountpoint /mnt/rigger-bind`);
      assert.equal(opts.split(',')[0], v === 'first' ? 'rw' : 'ro');
    },
  });
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.mount({ path: '/mnt/rigger-bind', state: v === 'first' ? 'unmounted' : 'absent' }),
    verify: async (v) => {
      assert.equal(await read(sh`findmnt -rn --mountpoint /mnt/rigger-bind || echo none`), 'none\n');
      assert.equal((await read(sh`cat /etc/fstab`)).includes('/mnt/rigger-bind'), v === 'first');
    },
  });
});

test('cron entry in /etc/cron.d identified by name, schedule validated', async () => {
  await onNode(inv, HOST, sh`rm -f /etc/cron.d/rigger-backup`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.cron({ name: 'rigger-backup', schedule: v === 'first' ? '0 2 * * *' : '0 3 * * 0', command: 'echo backup >> /var/log/rigger-backup.log' }),
    verify: async (v) => {
      const text = await read(sh`cat /etc/cron.d/rigger-backup; stat -c %a /etc/cron.d/rigger-backup`);
      assert.match(text, new RegExp(`^${v === 'first' ? '0 2 \\* \\* \\*' : '0 3 \\* \\* 0'} root echo backup >> /var/log/rigger-backup.log$`, 'm'));
      assert.match(text, /^644$/m);
    },
  });
  assert.match(ops.cron({ name: 'x', schedule: '61 2 * * *', command: 'true' }).problems[0]!.message, /cron schedule/);
  assert.match(ops.cron({ name: 'x.y', schedule: '@daily', command: 'true' }).problems[0]!.param, /name/);
});
