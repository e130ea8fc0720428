// sshd settings where the main file includes no drop-in (DSM 7's
// /etc/ssh/sshd_config has no Include line; nor have older distributions'):
// a drop-in there is never read, so the op used to write one, report it
// changed, and leave sshd as it was. The settings now go into the main
// file's global section, before any Match block, checked by the real sshd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ops } from '../../lib/index.ts';
import type { Op } from '../../lib/model/op.ts';
import { mainIncludes, withGlobalSettings } from '../../lib/ops/system/sshd-main-file.ts';

const DEBIAN = 'Include /etc/ssh/sshd_config.d/*.conf\n\n#PermitRootLogin prohibit-password\nKbdInteractiveAuthentication no\nUsePAM yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n';
// A main file without Include, its global settings followed by a Match block that lasts to the end.
const NO_INCLUDE = `Port 22
port 2222
PasswordAuthentication yes
ChallengeResponseAuthentication no
UsePAM yes
Subsystem sftp internal-sftp

Match User backup
  PasswordAuthentication yes
  ForceCommand internal-sftp
`;

test('an Include is read as sshd reads it: globs, relative to /etc/ssh, in the global section only', () => {
  const file = '/etc/ssh/sshd_config.d/50-rigger.conf';
  assert.equal(mainIncludes(DEBIAN, file), true);
  assert.equal(mainIncludes('include sshd_config.d/*.conf\n', file), true);
  assert.equal(mainIncludes('Include /etc/ssh/sshd_config.d/[0-4]*.conf\n', file), false);
  assert.equal(mainIncludes('Include /etc/ssh/sshd_config.d/[0-9]*.conf\n', file), true);
  assert.equal(mainIncludes(NO_INCLUDE, file), false);
  assert.equal(mainIncludes('Match User x\n  Include /etc/ssh/sshd_config.d/*.conf\n', file), false);
  assert.equal(mainIncludes('Include /etc/ssh/sshd_config.d/*\n', '/etc/ssh/sshd_config.d/sub/50-rigger.conf'), false, '* stays within one directory');
});

test('settings replace their keyword in the global section and are added before the Match block; a second edit changes nothing', () => {
  const settings = { Port: ['Port 222'], PasswordAuthentication: ['PasswordAuthentication no'], PermitRootLogin: ['PermitRootLogin prohibit-password'], AllowUsers: ['AllowUsers root deploy'] };
  const text = withGlobalSettings(NO_INCLUDE, settings);
  const [global, block] = text.split(/^(?=Match )/m);
  assert.deepEqual(global!.split('\n').filter((l) => /^port /i.test(l)), ['Port 222'], 'one Port line where the first was');
  assert.match(global!, /^Port 222\nPasswordAuthentication no\nChallengeResponseAuthentication no\n/);
  assert.match(global!, /^PermitRootLogin prohibit-password\nAllowUsers root deploy\n\n$/m);
  assert.equal(block, 'Match User backup\n  PasswordAuthentication yes\n  ForceCommand internal-sftp\n', 'the Match block is untouched');
  assert.equal(withGlobalSettings(text, settings), text);
  assert.equal(withGlobalSettings('UsePAM yes', { Port: ['Port 22'] }), 'UsePAM yes\nPort 22\n');
});

test('the edited main file is what the real sshd reads: every connection gets the settings, the Match block its own', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sshd-main-'));
  try {
    const file = path.join(dir, 'sshd_config');
    writeFileSync(file, withGlobalSettings(NO_INCLUDE, { PasswordAuthentication: ['PasswordAuthentication no'], PermitRootLogin: ['PermitRootLogin no'], MaxAuthTries: ['MaxAuthTries 3'] }));
    const read = (user: string) => {
      const r = spawnSync('/usr/sbin/sshd', ['-T', '-f', file, '-C', `user=${user},host=h,addr=127.0.0.1`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.match(read('deploy'), /^passwordauthentication no$/m);
    assert.match(read('deploy'), /^permitrootlogin no$/m);
    assert.match(read('deploy'), /^maxauthtries 3$/m);
    assert.match(read('backup'), /^passwordauthentication yes$/m, "the Match block's own setting still applies to its user");
    assert.match(read('backup'), /^maxauthtries 3$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const decide = (op: Op<unknown, any>, state: unknown) => {
  assert.deepEqual(op.problems, []);
  return op.decide(op.probe!.parse({ stdout: Buffer.from(state as string), stderr: Buffer.alloc(0), code: 0, durationMs: 0 }));
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('the op writes the drop-in where the main file includes it, and the main file where it does not', () => {
  const op = () => ops.system.sshdConfig({ settings: { PermitRootLogin: 'no', Port: ['22', '222'] } });
  const debian = decide(op(), `absent\n@@main 644\n${b64(DEBIAN)}\n`);
  assert.ok(debian.kind === 'change' && debian.msg === 'create /etc/ssh/sshd_config.d/50-rigger.conf', JSON.stringify(debian));
  const dsm = decide(op(), `absent\n@@main 600\n${b64(NO_INCLUDE)}\n`);
  assert.ok(dsm.kind === 'change', JSON.stringify(dsm));
  assert.match(dsm.msg ?? '', /^update \/etc\/ssh\/sshd_config \(it includes no drop-in\)$/);
  const shown = (dsm.commands ?? []).map((c) => c.display()).join('\n');
  const sent = (dsm.commands ?? []).flatMap((c) => c.stdin.map((s) => (typeof s === 'string' ? s : Buffer.isBuffer(s) ? s.toString('utf8') : ''))).join('\n');
  assert.match(shown, /\/etc\/ssh\/sshd_config/);
  assert.doesNotMatch(shown, /sshd_config\.d/, 'no drop-in written');
  assert.match(sent, /\b0600\b/, 'the main file keeps its mode');
  assert.match(shown, /systemctl reload ssh; elif systemctl is-active --quiet sshd; then systemctl reload sshd/);
  const done = withGlobalSettings(NO_INCLUDE, { PermitRootLogin: ['PermitRootLogin no'], Port: ['Port 22', 'Port 222'] });
  assert.equal(decide(op(), `absent\n@@main 600\n${b64(done)}\n`).kind, 'ok');
});
