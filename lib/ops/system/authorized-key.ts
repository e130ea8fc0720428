import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { atomicWrite } from '../files/write-file.ts';

const keyLine = z.string().regex(/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/, 'a public key line like "ssh-ed25519 AAAA... comment"');

const schema = z.object({ user: z.string().regex(/^[a-z_][a-z0-9_-]*$/), key: keyLine, state: z.enum(['present', 'absent']).default('present') }).strict();

/** The key's identity is its type and base64 body; the comment may differ. */
const identity = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

/** One public key in a user's ~/.ssh/authorized_keys, other keys untouched. */
export const authorizedKey = defineOp({
  kind: 'system.authorizedKey',
  schema,
  describe: (p) => `${p.user}: ${p.key.slice(0, 40)}...`,
  probe: (p) => ({
    command: sh`h=$(getent passwd ${p.user} | cut -d: -f6); if [ -z "$h" ]; then echo @@nouser; exit 0; fi; echo "$h"; echo "$(id -u ${p.user}):$(id -g ${p.user})"; cat "$h/.ssh/authorized_keys" 2>/dev/null || true`,
    parse: (r: ExecResult) => {
      const lines = r.stdout.toString('utf8').split('\n');
      if (lines[0] === '@@nouser') return undefined;
      return { home: lines[0]!, ids: lines[1]!, keys: lines.slice(2).join('\n') };
    },
  }),
  decide: (p, s: { home: string; ids: string; keys: string } | undefined): Decision<{ user: string }> => {
    if (!s) return { kind: 'fail', reason: `user ${p.user} does not exist` };
    const result = { user: p.user };
    const lines = s.keys.split('\n').filter((l) => l.trim() !== '');
    const has = lines.some((l) => identity(l) === identity(p.key));
    if ((p.state === 'present') === has) return { kind: 'ok', result };
    const next = p.state === 'present' ? [...lines, p.key.trim()] : lines.filter((l) => identity(l) !== identity(p.key));
    const text = next.length ? next.join('\n') + '\n' : '';
    const file = `${s.home}/.ssh/authorized_keys`;
    return {
      kind: 'change',
      msg: `${p.state === 'present' ? 'add' : 'remove'} key for ${p.user}`,
      commands: [
        sh`mkdir -p -m 0700 ${`${s.home}/.ssh`} && chown ${s.ids} ${`${s.home}/.ssh`}`,
        atomicWrite(file, Buffer.from(text), createHash('sha256').update(text).digest('hex'), '0600', { owner: s.ids.split(':')[0], group: s.ids.split(':')[1] }),
      ],
      result: () => result,
      checkResult: result,
    };
  },
});
