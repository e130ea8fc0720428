import { z } from '../shell/zod.ts';
import { raw, sh, type Command } from '../shell/command.ts';
import { defineFact } from '../model/fact.ts';

/**
 * How rclone runs on a host, the one place that says so: the off-site
 * copy, its listing probe and the recovery's fetch all build their rclone
 * calls here. `package`: Debian's rclone on the host's PATH (installed with
 * apt). `container`: rclone from an image through the host's Docker, for
 * hosts without apt (Synology DSM), with host networking and only the
 * directories the call names mounted, each at its own path, so every path
 * in the arguments means the same inside and out.
 */
export const rcloneRunner = z.discriminatedUnion('how', [
  z.object({ how: z.literal('package') }).strict(),
  z.object({ how: z.literal('container'), image: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:\/@-]*$/) }).strict(),
]);
export type RcloneRunner = z.output<typeof rcloneRunner>;

export const RCLONE_CHOICES = ['auto', 'package', 'container'] as const;
export type RcloneChoice = (typeof RCLONE_CHOICES)[number];

/** What a host offers for running rclone. */
export interface RcloneHost {
  apt: boolean;
  docker: boolean;
}

export const rcloneHost = defineFact('rclone host', sh`command -v apt-get >/dev/null 2>&1 && echo apt; command -v docker >/dev/null 2>&1 && echo docker; true`, (r) => {
  const lines = r.stdout.toString('utf8').split('\n');
  return { apt: lines.includes('apt'), docker: lines.includes('docker') };
});

/**
 * The inventory's choice (`backup_rclone`) made concrete for a host: `auto`
 * takes Debian's package where apt is, else the image where Docker is.
 */
export function chooseRunner(choice: RcloneChoice, image: string, host: RcloneHost): RcloneRunner | { problem: string } {
  if (choice === 'package' || (choice === 'auto' && host.apt)) return { how: 'package' };
  if (choice === 'container' || host.docker) return { how: 'container', image };
  return { problem: 'rclone cannot run here: no apt-get for Debian\'s rclone and no docker for the rclone image (backup_rclone, backup_rclone_image)' };
}

/** A directory the call reads or writes: a path, or a shell variable the script set (a temp dir). */
export type RcloneMount = string | { shellVar: string };

export interface RcloneCall {
  /** rclone's config file, when rigger wrote one; else rclone's own default. */
  config?: string | undefined;
  /** Local directories the arguments name (the container sees only these). */
  mounts: readonly RcloneMount[];
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A bind mount at the same path inside. `--mount`, not `-v`: for a source
 * that does not exist yet `-v` makes an empty directory there (as root),
 * so a probe that ran before the config was written would leave a directory
 * where the config file belongs; `--mount` refuses a missing source instead.
 * (Paths here are the backup variables' safe paths: no comma to split on.)
 */
function mountArgs(m: RcloneMount, readonly = false): Command {
  const ro = readonly ? ',readonly' : '';
  if (typeof m === 'string') return sh`--mount ${`type=bind,source=${m},target=${m}${ro}`}`;
  if (!VAR_NAME.test(m.shellVar)) throw new TypeError(`not a shell variable name: ${m.shellVar}`);
  return sh`--mount ${raw(`"type=bind,source=$${m.shellVar},target=$${m.shellVar}${ro}"`)}`;
}

/** `rclone` with its config, as this runner starts it: the arguments follow. */
export function rcloneCommand(r: RcloneRunner, call: RcloneCall): Command {
  const cfg = call.config ? ['--config', call.config] : [];
  if (r.how === 'package') return sh`rclone ${cfg}`;
  const mounts: Command[] = [];
  // The config read-only: rclone only rewrites it to save a refreshed token, and says so when it cannot.
  if (call.config) mounts.push(mountArgs(call.config, true));
  const seen = new Set<string>();
  for (const m of call.mounts) {
    const key = typeof m === 'string' ? m : `$${m.shellVar}`;
    if (!seen.has(key)) mounts.push(mountArgs(m));
    seen.add(key);
  }
  const args = mounts.length ? mounts.slice(1).reduce((acc, m) => sh`${acc} ${m}`, mounts[0]!) : raw('');
  return sh`docker run --rm --network host --entrypoint rclone ${args} ${r.image} ${cfg}`;
}

/** Succeeds when this runner can start rclone now (the package installed, the image pulled). */
export function rcloneReady(r: RcloneRunner): Command {
  return r.how === 'package' ? sh`command -v rclone >/dev/null 2>&1` : sh`docker image inspect -- ${r.image} >/dev/null 2>&1`;
}

/** Why {@link rcloneReady} failed, for a message. */
export const notReady = (r: RcloneRunner) => (r.how === 'package' ? 'rclone is not installed' : `the rclone image ${r.image} is not on this host`);
