// Acceptance check of the README's test command on a fresh Debian 12 machine:
// a container from the lab's base image, stripped of what the tests need
// (no sshd, ssh, sudo, procps, curl), with this machine's Node 20
// and npm and the repository (with its node_modules) copied in. Then, as
// root, `npm test` exactly as the README says: it must install the Debian
// packages itself and pass the type check and the unit, CLI and SSH suites.
// Only the unit stage runs (RIGGER_TEST_STAGES=unit): the lab stage's set-up
// is Docker's, which `scripts/lab.ts up` installs, and Docker does not run
// inside this container. Needs the lab's base image (`npx tsx scripts/lab.ts up`).
//   flock /tmp/rigger-docker.lock npx tsx scripts/fresh-machine.ts
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { IMAGE } from './lab/config.ts';

$.verbose = false;
const NAME = `rigger-fresh-${process.pid}`;
const LOG = path.resolve('.fresh/npm-test.log');
const say = (s: string) => process.stderr.write(s + '\n');
const inBox = (script: string) => $`docker exec ${NAME} bash -c ${script}`;
/**
 * Where this machine reaches the npm registry through a TLS-inspecting proxy
 * whose CA it trusts by NODE_EXTRA_CA_CERTS (the package test installs the
 * tarball's dependencies), the container trusts the same bundle: a property
 * of this network, not something the tests need.
 */
const HOST_CA = process.env.NODE_EXTRA_CA_CERTS;
const caEnv = HOST_CA ? ['-e', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-bundle.crt'] : [];

/** Runs `npm test` in the container with its unit stage only; resolves with what happened. */
function npmTestUnitStage(): Promise<{ code: number | null; tail: string }> {
  mkdirSync(path.dirname(LOG), { recursive: true });
  const log = createWriteStream(LOG);
  return new Promise((resolve) => {
    const child = spawn('docker', ['exec', ...caEnv, '-e', 'RIGGER_TEST_STAGES=unit', NAME, 'bash', '-c', 'cd /repo && npm test 2>&1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      log.write(chunk);
      text += chunk.toString();
    });
    child.on('close', (code) => {
      log.end();
      resolve({ code, tail: text.slice(-3000) });
    });
  });
}

if ((await $`docker image inspect ${IMAGE}`.nothrow()).exitCode !== 0) throw new Error(`no image ${IMAGE}: run npx tsx scripts/lab.ts up first`);
const started = Date.now();
// A stopped check must not leave its container running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void $`docker rm -f ${NAME}`.nothrow().finally(() => process.exit(130)));
}
try {
  await $`docker run -d --name ${NAME} ${IMAGE} sleep infinity`;
  say(`container ${NAME} from ${IMAGE}`);
  // A fresh machine has none of the tests' packages: remove those the lab image carries.
  await inBox('SUDO_FORCE_REMOVE=yes DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --auto-remove openssh-server openssh-client sudo procps curl python3 python3-minimal >/dev/null 2>&1; for c in sshd ssh sudo pgrep curl; do if command -v $c; then exit 1; fi; done; exit 0');
  const npmDir = path.dirname(path.dirname(execFileSync('readlink', ['-f', execFileSync('sh', ['-c', 'command -v npm']).toString().trim()]).toString().trim()));
  await $`docker cp ${process.execPath} ${NAME}:/usr/local/bin/node`;
  if (HOST_CA) await $`docker cp -L ${HOST_CA} ${NAME}:/etc/ssl/certs/host-ca-bundle.crt`;
  await inBox('mkdir -p /usr/local/lib/node_modules /repo');
  await $`docker cp ${npmDir} ${NAME}:/usr/local/lib/node_modules/npm`;
  await inBox('ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version');
  // The repository as a clone would have it (tracked and new files, not ignored ones) plus node_modules from `npm install`.
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z']).toString().split('\0').filter(Boolean);
  const list = path.resolve('.fresh/files');
  mkdirSync(path.dirname(list), { recursive: true });
  writeFileSync(list, files.join('\0') + '\0');
  await $`tar -c --null -T ${list} node_modules | docker exec -i ${NAME} tar -x -C /repo`;
  say(`repository copied (${files.length} files and node_modules); npm test (log: ${path.relative(process.cwd(), LOG)})`);
  const r = await npmTestUnitStage();
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const summary = [...r.tail.matchAll(/^# (tests|pass|fail|skipped) (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');
  const installed = /installing the tests' Debian packages: (.*)/.exec(r.tail) ?? /installing the tests' Debian packages: (.*)/.exec(readFileSync(LOG, 'utf8'));
  const failed = Number(/^# fail (\d+)$/m.exec(r.tail)?.[1] ?? NaN);
  if (r.code !== 0 || failed !== 0) {
    say(r.tail);
    say(`FAILED after ${minutes} min: npm test with the unit stage only exited ${r.code}`);
    process.exitCode = 1;
  } else {
    say(`PASSED in ${minutes} min: installed ${installed?.[1] ?? 'nothing'}; type check, unit, CLI and SSH suites passed (${summary}); the lab stage not run (no Docker in the container)`);
  }
} finally {
  await $`docker rm -f ${NAME}`.nothrow().quiet();
}
