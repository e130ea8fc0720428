import { $ } from 'zx';
import { IMAGE, LAB_REMOTE, LABEL, NETWORK } from './config.ts';
import { ensureNetwork } from './nodes.ts';
import { obscure as rcloneObscure } from '../../lib/backup/rclone-obscure.ts';
import { APT, ensurePushed, pushRefOf, type ServiceImage } from './services.ts';

$.verbose = false;

/**
 * Debian's rclone on the lab's base image, built once and kept, tagged by its
 * recipe like the lab's other images, and pushed to the lab registry as
 * lab/rclone. Two uses: the lab remote runs it (`rclone serve sftp`, from
 * this machine's engine beside the nodes, as the registry runs, so no node's
 * reset touches it), and the rehearsal's DSM stand-in pulls it as its
 * `backup_rclone_image` (the lab cannot pull rclone/rclone from Docker Hub).
 * rclone is on its PATH, as in the official image, whose entrypoint it is too.
 */
export const RCLONE_IMAGE: ServiceImage = {
  name: 'rclone',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} rclone && rm -rf /var/lib/apt/lists/* && mkdir -p ${LAB_REMOTE.root}
ENTRYPOINT ["/usr/bin/rclone"]
`,
  files: {},
};

/** The remote's image as this machine's engine has it (built and pushed by ensureRemote). */
export const REMOTE_IMAGE = pushRefOf(RCLONE_IMAGE);

/** The rclone.conf section a client logs in with: the rehearsal inventory's rclone_config (vaulted there). */
export function labRemoteRcloneConfig(): string {
  return [
    `[${LAB_REMOTE.name}]`,
    'type = sftp',
    `host = ${LAB_REMOTE.ip}`,
    `port = ${LAB_REMOTE.port}`,
    `user = ${LAB_REMOTE.user}`,
    `pass = ${rcloneObscure(LAB_REMOTE.password)}`,
    '',
  ].join('\n');
}

/**
 * The remote answers: an rclone sftp login with the lab's credentials at its
 * lab address, run by the rclone in its own container (this machine may have
 * none), listing the root it serves.
 */
export async function remoteAnswers(): Promise<boolean> {
  const running = await $`docker inspect -f '{{.State.Running}}' ${LAB_REMOTE.container}`.nothrow().quiet();
  if (running.stdout.trim() !== 'true') return false;
  const login = `:sftp,host=${LAB_REMOTE.ip},port=${LAB_REMOTE.port},user=${LAB_REMOTE.user},pass=${rcloneObscure(LAB_REMOTE.password)}:`;
  const r = await $`docker exec ${LAB_REMOTE.container} rclone lsd --contimeout 5s --retries 1 --low-level-retries 1 ${login}`.nothrow().quiet();
  return r.exitCode === 0;
}

/** The lab remote, started (its image built once and pushed, its volume made) unless it answers already. */
export async function ensureRemote(say: (s: string) => void): Promise<void> {
  if (await remoteAnswers()) return;
  await ensureNetwork();
  // Built (once) and pushed with the lab's other images: the registry is up before the remote (`up`'s order).
  await ensurePushed([RCLONE_IMAGE], say);
  say(`starting rclone serve sftp on ${LAB_REMOTE.ip}:${LAB_REMOTE.port}`);
  await $`docker rm -f ${LAB_REMOTE.container}`.nothrow().quiet();
  // The volume is created once and never by a reset: it is the cloud's storage.
  await $`docker volume create --label ${LABEL} ${LAB_REMOTE.volume}`.quiet();
  await $`docker run -d --name ${LAB_REMOTE.container} --label ${LABEL} --restart unless-stopped --network ${NETWORK} --ip ${LAB_REMOTE.ip} -v ${`${LAB_REMOTE.volume}:${LAB_REMOTE.root}`} ${REMOTE_IMAGE} serve sftp ${LAB_REMOTE.root} --addr ${`:${LAB_REMOTE.port}`} --user ${LAB_REMOTE.user} --pass ${LAB_REMOTE.password}`.quiet();
  const deadline = Date.now() + 30_000;
  while (!(await remoteAnswers())) {
    if (Date.now() > deadline) throw new Error(`the lab remote did not answer sftp on ${LAB_REMOTE.ip}:${LAB_REMOTE.port} within 30 s (docker logs ${LAB_REMOTE.container})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `down`: the container and its data (the cloud's storage goes with the lab). */
export async function removeRemote(): Promise<void> {
  await $`docker rm -f ${LAB_REMOTE.container}`.nothrow().quiet();
  await $`docker volume rm -f ${LAB_REMOTE.volume}`.nothrow().quiet();
}
