import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { pathStateProbe, type PathState } from '../files/path-state.ts';
import { atomicWrite } from '../files/write-file.ts';

export const unitName = z.string().regex(/^[A-Za-z0-9:_.@-]+\.(service|timer|socket|mount|target|path)$/, 'a unit name like app.service or backup.timer');

const schema = z.object({ name: unitName, content: z.string().optional(), state: z.enum(['present', 'absent']).default('present') }).strict()
  .refine((p) => p.state === 'absent' || p.content !== undefined, { message: 'state present needs content', path: ['content'] });

/**
 * A unit file in /etc/systemd/system. daemon-reload runs in the same round
 * trip, and only when the file really changed.
 */
export const unit = defineOp({
  kind: 'systemd.unit',
  schema,
  describe: (p) => p.name,
  probe: (p) => pathStateProbe(`/etc/systemd/system/${p.name}`, true),
  decide: (p, s: PathState): Decision<{ name: string; changed: boolean }> => {
    const path = `/etc/systemd/system/${p.name}`;
    if (p.state === 'absent') {
      if (!s.exists) return { kind: 'ok', result: { name: p.name, changed: false } };
      return {
        kind: 'change',
        msg: `remove ${path}`,
        commands: [sh`systemctl disable --now ${p.name} 2>/dev/null || true`, sh`rm -f -- ${path}`, sh`systemctl daemon-reload`],
        result: () => ({ name: p.name, changed: true }),
        checkResult: { name: p.name, changed: true },
      };
    }
    const content = Buffer.from(p.content!, 'utf8');
    const sha = createHash('sha256').update(content).digest('hex');
    if (s.exists && s.sha256 === sha && s.mode === '0644') return { kind: 'ok', result: { name: p.name, changed: false } };
    return {
      kind: 'change',
      msg: s.exists ? `update ${path}` : `create ${path}`,
      diff: { kind: 'text', path, before: s.content?.toString('utf8') ?? '', after: p.content! },
      commands: [atomicWrite(path, content, sha, '0644', { owner: 'root', group: 'root' }), sh`systemctl daemon-reload`],
      result: () => ({ name: p.name, changed: true }),
      checkResult: { name: p.name, changed: true },
    };
  },
});
