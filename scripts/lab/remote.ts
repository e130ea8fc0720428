import { $ } from 'zx';
import { IMAGE, LAB_REMOTE, LABEL, NETWORK } from './config.ts';
import { dockerBuild } from './image.ts';
import { ensureNetwork } from './nodes.ts';
import { rcloneObscure } from './rclone-obscure.ts';
import { APT, tagOf, type ServiceImage } from './services.ts';

$.verbose = false;

/**
 * The lab remote's image (LAB_REMOTE: the stand-in for the operators' cloud
 * remote): Debian's rclone on the lab's base image, built once and kept,
 * tagged by its recipe like the lab's other images. It runs on this
 * machine's engine beside the nodes (as the registry does), so no node's
 * reset touches it.
 */
const REMOTE_IMAGE_RECIPE: ServiceImage = {
  name: 'remote',
  dockerfile: `FROM ${IMAGE}
RUN ${APT} rclone && rm -rf /var/lib/apt/lists/* && mkdir -p ${LAB_REMOTE.root}
ENTRYPOINT ["/usr/bin/rclone"]
`,
  files: {},
};

export const REMOTE_IMAGE = `${LAB_REMOTE.container}:${tagOf(REMOTE_IMAGE_RECIPE)}`;

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

/** The lab remote, started (its image built once, its volume made) unless it answers already. */
export async function ensureRemote(say: (s: string) => void): Promise<void> {
  if (await remoteAnswers()) return;
  await ensureNetwork();
  if ((await $`docker image inspect ${REMOTE_IMAGE}`.nothrow().quiet()).exitCode !== 0) {
    say("building the lab remote's image (Debian rclone)");
    await dockerBuild(REMOTE_IMAGE, REMOTE_IMAGE_RECIPE.dockerfile, REMOTE_IMAGE_RECIPE.files);
  }
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
