import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { parsePathState, pathStateProbe, type PathState } from '../files/path-state.ts';
import { putFiles, type PutFile } from '../files/put-files.ts';
import { aptUpdate } from './packages.ts';

const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'letters, digits, _ . - (it names the .sources and key files)');

const schema = z
  .object({
    name,
    uris: z.array(z.string().regex(/^(https?|file|cdrom|mirror\+https?):/, 'a URI like https://... or file:/...')).min(1),
    suites: z.array(z.string().min(1)).min(1),
    components: z.array(z.string().min(1)).default([]),
    architectures: z.array(z.string().min(1)).optional(),
    /** The signing key: ASCII-armored content, or a URL the host fetches once (kept until the file is removed). */
    key: z.union([z.object({ content: z.string().includes('BEGIN PGP PUBLIC KEY BLOCK', { message: 'an ASCII-armored public key' }) }).strict(), z.object({ url: z.string().url() }).strict()]),
    state: z.enum(['present', 'absent']).default('present'),
    /** Run apt-get update when the repository changed (default), so packages from it can be installed next. */
    updateCache: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.suites.every((s) => !s.endsWith('/')) || p.components.length === 0, { message: 'a flat repository suite (ending in /) takes no components', path: ['components'] });

type Params = z.output<typeof schema>;

export const sourcesPath = (n: string) => `/etc/apt/sources.list.d/${n}.sources`;
export const keyPath = (n: string) => `/etc/apt/keyrings/${n}.asc`;

/** The repository in deb822 form, with Signed-By pointing at its own key: never apt-key, never a global trust. */
export function sourcesText(p: Params): string {
  const lines = ['# Managed by rigger', 'Types: deb', `URIs: ${p.uris.join(' ')}`, `Suites: ${p.suites.join(' ')}`];
  if (p.components.length > 0) lines.push(`Components: ${p.components.join(' ')}`);
  if (p.architectures) lines.push(`Architectures: ${p.architectures.join(' ')}`);
  lines.push(`Signed-By: ${keyPath(p.name)}`);
  return lines.join('\n') + '\n';
}

interface RepoState {
  sources: PathState;
  key: PathState;
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** An apt repository in deb822 form with its signing key in /etc/apt/keyrings. */
export const repository = defineOp({
  kind: 'apt.repository',
  schema,
  describe: (p) => `${p.name} (${p.uris.join(' ')})`,
  probe: (p) => {
    const a = pathStateProbe(sourcesPath(p.name), true);
    const b = pathStateProbe(keyPath(p.name), true);
    return {
      command: Command.join([a.command, sh`echo @@key`, b.command], '\n'),
      parse: (r: ExecResult): RepoState => {
        const [first = '', second = ''] = r.stdout.toString('utf8').split('@@key\n');
        const part = (s: string) => ({ ...r, stdout: Buffer.from(s) });
        return { sources: parsePathState(part(first)), key: parsePathState(part(second)) };
      },
    };
  },
  decide: (p, s: RepoState): Decision<{ name: string }> => {
    const result = { name: p.name };
    const src = sourcesPath(p.name);
    const key = keyPath(p.name);
    if (p.state === 'absent') {
      const gone = [s.sources.exists ? src : undefined, s.key.exists ? key : undefined].filter((x): x is string => !!x);
      if (gone.length === 0) return { kind: 'ok', result };
      return { kind: 'change', msg: `remove ${gone.join(' ')}`, commands: [sh`rm -f -- ${gone}`, ...(p.updateCache ? [aptUpdate()] : [])], result: () => result, checkResult: result };
    }
    const commands: Command[] = [];
    // The key and the sources file go in one call of the file writer: both or neither.
    const writes: PutFile[] = [];
    const changes: string[] = [];
    if ('content' in p.key) {
      if (s.key.sha256 !== sha(p.key.content)) {
        commands.push(sh`mkdir -p -m 0755 /etc/apt/keyrings`);
        writes.push({ path: key, data: Buffer.from(p.key.content), sha256: sha(p.key.content), mode: '0644' });
        changes.push(s.key.exists ? `replace key ${key}` : `add key ${key}`);
      }
    } else if (!s.key.exists) {
      commands.push(
        sh`mkdir -p -m 0755 /etc/apt/keyrings && t=$(mktemp ${key}.XXXXXX) && trap 'rm -f "$t"' EXIT && curl -fsSL --retry 3 -o "$t" ${p.key.url} && grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$t" && chmod 0644 "$t" && mv -f "$t" ${key}`,
      );
      changes.push(`fetch key ${p.key.url} into ${key}`);
    }
    const text = sourcesText(p);
    if (s.sources.sha256 !== sha(text)) {
      writes.push({ path: src, data: Buffer.from(text), sha256: sha(text), mode: '0644' });
      changes.push(s.sources.exists ? `update ${src}` : `add ${src}`);
    }
    if (writes.length) commands.push(putFiles(writes));
    if (commands.length === 0) return { kind: 'ok', result };
    if (p.updateCache) commands.push(aptUpdate());
    return {
      kind: 'change',
      msg: changes.join(', '),
      diff: { kind: 'text', path: src, before: s.sources.content?.toString('utf8') ?? '', after: text },
      commands,
      result: () => result,
      checkResult: result,
    };
  },
});
