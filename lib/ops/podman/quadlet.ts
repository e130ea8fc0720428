import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import { fileAndServiceProbe, type FileAndService } from '../files/file-and-service.ts';
import { atomicWrite } from '../files/write-file.ts';
import { validateWithShell } from '../files/validate-words.ts';
import { quote } from '../../shell/quote.ts';

export const QUADLET_DIR = '/etc/containers/systemd';
const GENERATOR = '/usr/libexec/podman/quadlet';

const schema = z
  .object({
    /** The unit file's name: NAME.container, NAME.network, NAME.volume (or .pod, .kube, .image, .build). */
    name: z.string().regex(/^[A-Za-z0-9_.@-]+\.(container|network|volume|pod|kube|image|build)$/, 'a Quadlet unit name like app.container or app.network'),
    content: z.string().optional(),
    state: z.enum(['present', 'absent']).default('present'),
    /** Restart the service when the unit changed (a .container's new image or settings take effect). */
    restartOnChange: z.boolean().default(true),
    dir: z.string().regex(/^\/[A-Za-z0-9._/-]+$/).default(QUADLET_DIR),
  })
  .strict()
  .refine((p) => p.state === 'absent' || p.content !== undefined, { message: 'state present needs content', path: ['content'] });

type Params = z.output<typeof schema>;

/** The service Quadlet generates from a unit: app.container -> app.service, app.network -> app-network.service. */
export function serviceOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const base = name.slice(0, dot);
  const kind = name.slice(dot + 1);
  return kind === 'container' || kind === 'kube' ? `${base}.service` : `${base}-${kind}.service`;
}

export interface QuadletResult {
  name: string;
  service: string;
  changed: boolean;
}

/**
 * The candidate file validated by Quadlet's own generator, with the units
 * already in the directory beside it (a .container may name a .network
 * there): a unit the generator rejects never replaces the old one.
 */
function validateWith(p: Params): string {
  return validateWithShell(`d=$(mktemp -d) && cp -a ${quote(p.dir)}/. "$d"/ 2>/dev/null; cp -- "$1" "$d"/${quote(p.name)} && QUADLET_UNIT_DIRS="$d" ${GENERATOR} --dryrun >/dev/null; rc=$?; rm -rf "$d"; exit $rc`);
}

/**
 * A Podman Quadlet unit in /etc/containers/systemd: written after Quadlet's
 * generator (--dryrun) accepted it, then `systemctl daemon-reload` and a
 * restart of its service only when the file changed; a service that is not
 * running is started. It is enabled through the unit's [Install] section
 * (Quadlet's services are generated, so `systemctl enable` cannot).
 */
export const quadlet = defineOp({
  kind: 'podman.quadlet',
  schema,
  describe: (p) => p.name,
  probe: (p) => fileAndServiceProbe(`${p.dir}/${p.name}`, serviceOf(p.name)),
  decide: (p, s: FileAndService): Decision<QuadletResult> => {
    const path = `${p.dir}/${p.name}`;
    const service = serviceOf(p.name);
    if (p.state === 'absent') {
      if (!s.file.exists) return { kind: 'ok', result: { name: p.name, service, changed: false } };
      return {
        kind: 'change',
        msg: `stop ${service}, remove ${path}`,
        commands: [sh`systemctl stop ${service} 2>/dev/null || true`, sh`rm -f -- ${path}`, sh`systemctl daemon-reload`],
        result: () => ({ name: p.name, service, changed: true }),
        checkResult: { name: p.name, service, changed: true },
      };
    }
    const content = Buffer.from(p.content!, 'utf8');
    const sha = createHash('sha256').update(content).digest('hex');
    const same = s.file.exists && s.file.sha256 === sha;
    const running = s.active === 'active' || s.active === 'activating';
    if (same && running) return { kind: 'ok', result: { name: p.name, service, changed: false } };
    const commands: Command[] = [];
    if (!same) commands.push(sh`mkdir -p ${p.dir}`, atomicWrite(path, content, sha, '0644', { owner: 'root', group: 'root', validate: validateWith(p) }), sh`systemctl daemon-reload`);
    // A oneshot (-network, -volume) is started, a container restarted: its new settings take effect now.
    const restart = !same && running && p.restartOnChange;
    commands.push(restart ? sh`systemctl restart ${service}` : sh`systemctl start ${service}`);
    return {
      kind: 'change',
      msg: [same ? '' : s.file.exists ? `update ${path}` : `create ${path}`, restart ? `restart ${service}` : `start ${service}`].filter(Boolean).join(', '),
      ...(same ? {} : { diff: { kind: 'text' as const, path, before: s.file.content?.toString('utf8') ?? '', after: p.content! } }),
      commands,
      result: () => ({ name: p.name, service, changed: true }),
      checkResult: { name: p.name, service, changed: true },
    };
  },
});
