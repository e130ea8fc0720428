import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { $ } from 'zx';
import { aptInstall } from './apt.ts';
import { DOCKERD_LOG, LAB_DIR } from './config.ts';

$.verbose = false;

async function dockerAnswers(): Promise<boolean> {
  return (await $`docker info --format '{{.ServerVersion}}'`.nothrow().quiet()).exitCode === 0;
}

/**
 * A Docker engine on this machine: used as it is when one answers, else
 * Debian's docker.io is installed and dockerd started in the background with
 * its own log file (LAB.md: no daemon runs on a fresh machine).
 */
export async function ensureEngine(say: (s: string) => void): Promise<void> {
  if (await dockerAnswers()) return;
  if ((await $`command -v dockerd`.nothrow().quiet()).exitCode !== 0) {
    say('installing docker.io from Debian');
    await aptInstall(['docker.io']);
  }
  if (await dockerAnswers()) return;
  say('starting dockerd');
  mkdirSync(LAB_DIR, { recursive: true });
  const log = openSync(DOCKERD_LOG, 'a');
  const daemon = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] });
  daemon.unref();
  const deadline = Date.now() + 60_000;
  while (!(await dockerAnswers())) {
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s; see ${DOCKERD_LOG}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
