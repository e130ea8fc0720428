import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { atomicWrite } from '../files/write-file.ts';
import { findEntry, formatEntry, sameEntry, setEntry, type FstabEntry } from './fstab.ts';

const schema = z
  .object({
    path: absolutePath,
    src: z.string().min(1).optional(),
    fstype: z.string().regex(/^[a-z0-9.]+$/, 'a file system type like ext4, nfs, none').optional(),
    opts: z.string().regex(/^\S+$/, 'comma-separated options without spaces').default('defaults'),
    dump: z.number().int().min(0).default(0),
    passno: z.number().int().min(0).max(2).default(0),
    /** mounted: fstab entry and live mount; present: fstab only; unmounted: fstab kept, not mounted; absent: neither. */
    state: z.enum(['mounted', 'present', 'unmounted', 'absent']),
  })
  .strict()
  .refine((p) => p.state === 'absent' || p.state === 'unmounted' || (p.src !== undefined && p.fstype !== undefined), { message: 'mounted and present need src and fstype', path: ['src'] });

interface MountState {
  fstab: string;
  mounted: { source: string; fstype: string; options: string } | undefined;
}

export function parseMountState(text: string): MountState {
  const [fstab = '', live = ''] = text.split('@@findmnt\n');
  const line = live.split('\n').find((l) => l.trim() !== '');
  if (!line) return { fstab, mounted: undefined };
  const [source = '', fstype = '', options = ''] = line.split(' ');
  return { fstab, mounted: { source, fstype, options } };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** An fstab entry and the live mount state of its path, each compared and converged separately. */
export const mount = defineOp({
  kind: 'mount.mount',
  schema,
  describe: (p) => `${p.path} ${p.state}`,
  probe: (p) => ({
    command: sh`cat /etc/fstab 2>/dev/null; echo @@findmnt; findmnt -rn -o SOURCE,FSTYPE,OPTIONS --mountpoint ${p.path} || true`,
    parse: (r: ExecResult) => parseMountState(r.stdout.toString('utf8')),
  }),
  decide: (p, s: MountState): Decision<{ path: string; mounted: boolean }> => {
    const want: FstabEntry | undefined =
      p.state === 'absent' ? undefined : p.src ? { src: p.src, path: p.path, fstype: p.fstype!, opts: p.opts, dump: p.dump, passno: p.passno } : findEntry(s.fstab, p.path);
    const have = findEntry(s.fstab, p.path);
    const commands: Command[] = [];
    const changes: string[] = [];
    const fstabChanged = want ? !have || !sameEntry(want, have) : have !== undefined;
    if (p.state === 'unmounted' && !have && !p.src) return { kind: 'fail', reason: `no fstab entry for ${p.path}; give src and fstype` };
    if (fstabChanged) {
      const text = setEntry(s.fstab, p.path, want);
      commands.push(atomicWrite('/etc/fstab', Buffer.from(text), sha(text), '0644', {}));
      changes.push(want ? `fstab: ${formatEntry(want).replace(/\t/g, ' ')}` : `fstab: remove ${p.path}`);
    }
    const shouldMount = p.state === 'mounted';
    const shouldUnmount = p.state === 'unmounted' || p.state === 'absent';
    if (shouldMount && (!s.mounted || fstabChanged)) {
      // A changed entry of a mounted path is applied by mounting it again.
      if (s.mounted) commands.push(sh`umount -- ${p.path}`);
      commands.push(sh`mkdir -p -- ${p.path}`, sh`mount -- ${p.path}`);
      changes.push(s.mounted ? `remount ${p.path}` : `mount ${p.path}`);
    }
    if (shouldUnmount && s.mounted) {
      commands.unshift(sh`umount -- ${p.path}`);
      changes.push(`unmount ${p.path}`);
    }
    const result = { path: p.path, mounted: shouldMount || (!shouldUnmount && s.mounted !== undefined) };
    if (commands.length === 0) return { kind: 'ok', result: { path: p.path, mounted: s.mounted !== undefined } };
    return {
      kind: 'change',
      msg: changes.join(', '),
      diff: { kind: 'text', path: '/etc/fstab', before: s.fstab, after: fstabChanged ? setEntry(s.fstab, p.path, want) : s.fstab },
      commands,
      result: () => result,
      checkResult: result,
    };
  },
});
