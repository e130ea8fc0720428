import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { pathStateProbe, type PathState } from '../files/path-state.ts';
import { atomicWrite } from '../files/write-file.ts';
import { validateWithShell } from '../files/validate-words.ts';

const schema = z
  .object({
    /** sshd keywords and values: { PermitRootLogin: 'no', AllowUsers: ['deploy', 'admin'] }. */
    settings: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]+$/, 'an sshd_config keyword like PermitRootLogin'), z.union([z.string().min(1), z.number(), z.array(z.string().min(1)).min(1)])),
    /** A drop-in read before the main file's own settings (Debian includes sshd_config.d first). */
    file: absolutePath.default('/etc/ssh/sshd_config.d/50-rigger.conf'),
    /** Reload sshd after a change; existing sessions (this run's) survive a reload. */
    reload: z.boolean().default(true),
  })
  .strict();

/** Keywords sshd reads once per line, so a list becomes several lines (Port 22, Port 222). */
const ONE_VALUE_PER_LINE = new Set(['Port', 'ListenAddress', 'HostKey']);

export function sshdText(settings: Record<string, string | number | string[]>): string {
  const lines = Object.entries(settings).flatMap(([k, v]) =>
    Array.isArray(v) && ONE_VALUE_PER_LINE.has(k) ? v.map((x) => `${k} ${x}`) : [`${k} ${Array.isArray(v) ? v.join(' ') : v}`],
  );
  return ['# Managed by rigger', ...lines].join('\n') + '\n';
}

/**
 * sshd settings in a drop-in, checked with `sshd -t` against the whole
 * configuration before they replace the old file, so a typo never reaches a
 * running sshd and never locks anyone out.
 */
export const sshdConfig = defineOp({
  kind: 'system.sshdConfig',
  schema,
  describe: (p) => `${p.file}: ${Object.keys(p.settings).join(', ')}`,
  probe: (p) => pathStateProbe(p.file, true),
  decide: (p, s: PathState): Decision<{ file: string }> => {
    const text = sshdText(p.settings);
    const sha = createHash('sha256').update(text).digest('hex');
    const result = { file: p.file };
    if (s.exists && s.sha256 === sha) return { kind: 'ok', result };
    // The candidate drop-in is tested together with the main configuration
    // (minus its Include lines, which would read the old drop-in too).
    const validate = validateWithShell(`f=$(mktemp) && { cat -- "$1"; grep -v '^[[:space:]]*Include' /etc/ssh/sshd_config; } > "$f" && sshd -t -f "$f"; r=$?; rm -f "$f"; exit $r`);
    return {
      kind: 'change',
      msg: `${s.exists ? 'update' : 'create'} ${p.file}`,
      diff: { kind: 'text', path: p.file, before: s.content?.toString('utf8') ?? '', after: text },
      commands: [
        sh`mkdir -p -- "$(dirname -- ${p.file})"`,
        atomicWrite(p.file, Buffer.from(text), sha, '0644', { validate }),
        ...(p.reload ? [sh`if systemctl is-active --quiet ssh; then systemctl reload ssh; fi`] : []),
      ],
      result: () => result,
      checkResult: result,
    };
  },
});
