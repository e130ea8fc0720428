import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { definePlay, ops, secret } from '../../lib/index.ts';
import { defineTemplate } from '../../lib/ops/files/edit-ops.ts';
import { ensureLab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';
import { runPlays } from '../helpers/run.ts';
import { sixSteps } from '../helpers/six-steps.ts';

let inv: string;
const HOST = 'gateway';
const D = '/srv/rigger-test/files';
before(async () => {
  inv = ensureLab();
  await onNode(inv, HOST, sh`rm -rf ${D} && mkdir -p ${D}`);
});

const read = async (cmd: ReturnType<typeof sh>) => (await onNode(inv, HOST, cmd)).stdout;

test('file: directory, mode, link, absent', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.file({ path: `${D}/dir`, state: 'directory', mode: v === 'first' ? '0750' : '0700' }),
    verify: async (v) => assert.equal(await read(sh`stat -c '%F %a' ${D}/dir`), `directory ${v === 'first' ? '750' : '700'}\n`),
  });
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.file({ path: `${D}/link`, state: 'link', src: v === 'first' ? '/etc/hostname' : '/etc/os-release' }),
    verify: async (v) => assert.equal(await read(sh`readlink ${D}/link`), v === 'first' ? '/etc/hostname\n' : '/etc/os-release\n'),
  });
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.file({ path: v === 'first' ? `${D}/dir` : `${D}/link`, state: 'absent' }),
    verify: async (v) => assert.equal(await read(sh`test -e ${v === 'first' ? `${D}/dir` : `${D}/link`} || test -L ${D}/link && echo there || echo gone`), v === 'first' ? 'there\n' : 'gone\n'),
  });
});

test('copy: content compared by checksum, written atomically with mode and owner', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.copy({ path: `${D}/copy.conf`, content: v === 'first' ? 'a=1\n' : 'a=2\n', mode: '0640', owner: 'root', group: v === 'first' ? 'root' : 'daemon' }),
    verify: async (v) => assert.equal(await read(sh`cat ${D}/copy.conf; stat -c '%a %U %G' ${D}/copy.conf`), v === 'first' ? 'a=1\n640 root root\n' : 'a=2\n640 root daemon\n'),
  });
});

const motd = defineTemplate<{ site: string; admins: string[] }>('motd', (v) => `Welcome to ${v.site}\nadmins: ${v.admins.join(', ')}\n`);

test('template: a typed function of vars', async () => {
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.template({ path: `${D}/motd`, template: motd, vars: { site: 'lab', admins: v === 'first' ? ['ana'] : ['ana', 'bo'] } }),
    verify: async (v) => assert.equal(await read(sh`cat ${D}/motd`), `Welcome to lab\nadmins: ${v === 'first' ? 'ana' : 'ana, bo'}\n`),
  });
});

test('line in file: regexp replace, insert after, absent', async () => {
  await onNode(inv, HOST, sh`printf '# sshd\nPort 22\n#PermitRootLogin yes\nUsePAM yes\n' > ${D}/sshd_config`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.line({ path: `${D}/sshd_config`, regexp: '^#?PermitRootLogin', line: `PermitRootLogin ${v === 'first' ? 'no' : 'prohibit-password'}` }),
    verify: async (v) => assert.equal(await read(sh`cat ${D}/sshd_config`), `# sshd\nPort 22\nPermitRootLogin ${v === 'first' ? 'no' : 'prohibit-password'}\nUsePAM yes\n`),
  });
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.line({ path: `${D}/sshd_config`, line: v === 'first' ? 'AllowUsers deploy' : 'AllowUsers deploy admin', regexp: '^AllowUsers', insertAfter: '^Port' }),
    verify: async (v) => assert.match(await read(sh`cat ${D}/sshd_config`), new RegExp(`^Port 22\\nAllowUsers deploy${v === 'first' ? '' : ' admin'}\\n`, 'm')),
  });
});

test('managed block: inserted, replaced in place, markers kept', async () => {
  await onNode(inv, HOST, sh`printf 'before\nafter\n' > ${D}/hosts`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.block({ path: `${D}/hosts`, block: v === 'first' ? '10.0.0.1 a\n' : '10.0.0.1 a\n10.0.0.2 b\n', insertAfter: '^before' }),
    verify: async (v) =>
      assert.equal(
        await read(sh`cat ${D}/hosts`),
        `before\n# BEGIN RIGGER MANAGED BLOCK\n10.0.0.1 a\n${v === 'second' ? '10.0.0.2 b\n' : ''}# END RIGGER MANAGED BLOCK\nafter\n`,
      ),
  });
});

test('JSON merge: desired keys win, other keys kept', async () => {
  await onNode(inv, HOST, sh`printf '{"log-level": "info", "runtimes": {"runc": {"path": "runc"}}}' > ${D}/daemon.json`);
  await sixSteps({
    inventory: inv,
    host: HOST,
    op: (v) => ops.jsonFile({ path: `${D}/daemon.json`, merge: v === 'first' ? { runtimes: { nvidia: { path: 'nvidia-container-runtime' } } } : { 'log-level': 'debug' } }),
    verify: async (v) => {
      const j = JSON.parse(await read(sh`cat ${D}/daemon.json`));
      assert.deepEqual(j.runtimes, { runc: { path: 'runc' }, nvidia: { path: 'nvidia-container-runtime' } });
      assert.equal(j['log-level'], v === 'first' ? 'info' : 'debug');
    },
  });
});

test('--diff prints a unified diff of exactly the changed lines; a secret in the content prints as ***', async () => {
  await onNode(inv, HOST, sh`printf 'user=app\npassword=old\nport=5432\n' > ${D}/db.conf`);
  const pw = secret(`pw-${process.pid}-marker`);
  const play = definePlay({
    name: 'diff',
    hosts: HOST,
    tasks: ({ task }) => [task({ name: 'db conf', op: ops.line({ path: `${D}/db.conf`, regexp: '^password=', line: `password=${pw.reveal()}` }) })],
  });
  const o = await runPlays(inv, [play], { check: true, diff: true });
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev?.type === 'task-host' && ev.diff?.kind === 'text');
  const { formatDiff } = await import('../../lib/ui/diff-format.ts');
  const { makeChalk } = await import('../../lib/ui/style.ts');
  const lines = formatDiff(ev.diff, makeChalk(false));
  assert.deepEqual(lines.filter((l) => /^[-+][^-+]/.test(l)), ['-password=old', '+password=***']);
  assert.ok(!JSON.stringify(o.events).includes(pw.reveal()));
});

test('a validate command that fails leaves the file as it was', async () => {
  await onNode(inv, HOST, sh`printf 'good\n' > ${D}/validated`);
  const play = definePlay({
    name: 'validate',
    hosts: HOST,
    tasks: ({ task }) => [task({ name: 'bad content', op: ops.copy({ path: `${D}/validated`, content: 'bad\n', validate: 'grep -q good %s' }) })],
  });
  const o = await runPlays(inv, [play]);
  const ev = o.events.find((e) => e.type === 'task-host');
  assert.ok(ev?.type === 'task-host' && ev.status === 'failed' && /validation failed/.test(ev.msg ?? ''));
  assert.equal(await read(sh`cat ${D}/validated; ls -a ${D} | grep -c rigger || true`), 'good\n0\n');
});
