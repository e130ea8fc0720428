import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { atomicWrite } from '../files/write-file.ts';

const schema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/, 'a sysctl key like net.ipv4.ip_forward'),
    value: z.union([z.string(), z.number()]).transform((v) => String(v).trim().replace(/\s+/g, ' ')),
    /** Also write /etc/sysctl.d/60-rigger-NAME.conf so the value survives a reboot. */
    persist: z.boolean().default(true),
  })
  .strict();

export const sysctlFile = (name: string) => `/etc/sysctl.d/60-rigger-${name}.conf`;

/** A kernel parameter: the live value and its sysctl.d file. */
export const sysctl = defineOp({
  kind: 'system.sysctl',
  schema,
  describe: (p) => `${p.name}=${p.value}`,
  probe: (p) => ({
    command: sh`sysctl -n ${p.name} 2>&1 || echo "@@error"; echo @@file; cat ${sysctlFile(p.name)} 2>/dev/null || true`,
    parse: (r: ExecResult) => {
      const [live = '', file = ''] = r.stdout.toString('utf8').split('@@file\n');
      return { live: live.includes('@@error') ? undefined : live.trim().replace(/\s+/g, ' '), error: live.replace('@@error', '').trim(), file };
    },
  }),
  decide: (p, s: { live: string | undefined; error: string; file: string }): Decision<{ name: string; value: string }> => {
    if (s.live === undefined) return { kind: 'fail', reason: `sysctl ${p.name}: ${s.error || 'unknown key'}` };
    const text = `# Managed by rigger\n${p.name} = ${p.value}\n`;
    const commands: Command[] = [];
    const changes: string[] = [];
    if (p.persist && s.file !== text) {
      commands.push(atomicWrite(sysctlFile(p.name), Buffer.from(text), createHash('sha256').update(text).digest('hex'), '0644', {}));
      changes.push(`persist in ${sysctlFile(p.name)}`);
    }
    if (s.live !== p.value) {
      commands.push(sh`sysctl -q -w ${`${p.name}=${p.value}`}`);
      changes.push(`${p.name} ${s.live} -> ${p.value}`);
    }
    const result = { name: p.name, value: p.value };
    if (commands.length === 0) return { kind: 'ok', result };
    return { kind: 'change', msg: changes.join(', '), diff: { kind: 'summary', lines: changes }, commands, result: () => result, checkResult: result };
  },
});
