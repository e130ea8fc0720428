// The local lab: four Debian nodes (gateway, ai, data, cicd) as systemd
// containers with their own address, hostname, apt, sshd and room for a
// Docker engine of their own, reachable over real SSH.
//   npx tsx scripts/lab.ts up|rehearse|status|reset [--all] [NODE...]|down [--purge]|ssh NODE [CMD...]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { Listr } from 'listr2';
import { $ } from 'zx';
import { BACKUP_VOLUME, nodeBackupVolume, OFFSITE_VOLUME, IMAGE, TRIXIE, LAB_DIR, LAB_INVENTORY, LAB_KEY, LAB_KNOWN_HOSTS, LAB_REMOTE, LABEL, LAYOUT_NODES, NETWORK, NODES, type LabNode } from './lab/config.ts';
import { ensureEngine } from './lab/engine.ts';
import { ensureImage } from './lab/image.ts';
import { step } from './lab/step.ts';
import { ensureLayouts, removeLayouts } from './lab/layouts.ts';
import { CORE_EDGE_INVENTORY, SINGLE_SERVER_INVENTORY } from './lab/layout-inventory.ts';
import { writeLabInventory } from './lab/inventory.ts';
import { REHEARSAL_INVENTORY, writeRehearsalInventory } from './lab/rehearsal.ts';
import { prepareRehearsalNodes } from './lab/rehearsal-nodes.ts';
import { ensurePushed, ensureRegistry, ensureServiceImages, removeRegistry, servicesReady } from './lab/services.ts';
import { standinImages, type StandinOptions } from './lab/standins.ts';
import { monitoringImages } from './lab/monitoring-images.ts';
import { ensureRemote, RCLONE_IMAGE, remoteAnswers, removeRemote } from './lab/remote.ts';
import { parseResetArgs } from './lab/reset-args.ts';
import { parseRehearseArgs } from './lab/rehearse-args.ts';
import { authorize, containerState, createNode, ensureKey, ensureNetwork, nodeStatus, removeNode, waitReady, writeKnownHosts } from './lab/nodes.ts';

$.verbose = false;

const USAGE = `Usage: npx tsx scripts/lab.ts COMMAND
  up                 build the base image and the lab's service images once, start the registry, the
                     lab remote (rclone serve sftp, the cloud remote's stand-in) and the four nodes,
                     write inventory/lab.yml (a no-op when running)
  up --layouts       also the layouts' trixie hosts (core, edge, single) and their images, and write
                     inventory/lab-core-edge.yml and inventory/lab-single-server.yml
  reset --layouts [NAME...]  fresh layouts' hosts (those named, else core, edge and single; the four nodes untouched)
  rehearse           build the real stacks' stand-in images once (pushed to the lab registry), write
                     inventory/rehearsal.yml (inventory/homelab.yml on the lab nodes), put the model's
                     directory on the ai node and make the data node a DSM stand-in (needs \`up\` first)
  rehearse --model-load SECONDS  the same, with the SGLang stand-in loading that long (default 120 s,
                     the real model's; the recovery drills, which do not test the load, pass a short one)
  status             each node's container, systemd, sshd, SSH and Docker state, and the lab remote's
  reset [--all] [NODE...]  fresh nodes in place (their Docker, swarm and volumes wiped): those named
                     (gateway, ai, data, cicd), else all four; keeps the registry, the lab remote and its
                     data, the off-site stand-in volume, and the nodes' backup volumes unless --all (then
                     the reset nodes' backup volumes are wiped too, as a lost disk)
  down [--purge]     remove the lab's containers, volumes, network, inventories and .lab/; its built images
                     are kept (so the next up builds nothing) unless --purge
  ssh NODE [CMD...]  an SSH session (or command) on a node with the lab key and pinned host key
`;

async function labIsUp(): Promise<boolean> {
  if (!existsSync(LAB_INVENTORY) || !existsSync(LAB_KNOWN_HOSTS)) return false;
  for (const n of NODES) if ((await containerState(n)) !== 'running') return false;
  return (await servicesReady()) && (await remoteAnswers());
}

/** Creates the nodes (recreating those in `recreate`, starting any not running) and writes the pinned host keys and the inventory. */
function nodeSteps(recreate: ReadonlySet<string>) {
  const hostKeys = new Map<string, string>();
  return [
    {
      title: 'SSH key and network',
      task: async () => {
        await ensureKey();
        await ensureNetwork();
      },
    },
    {
      title: 'nodes',
      task: (_: unknown, t: any) =>
        t.newListr(
          NODES.map((n) => ({
            title: n.name,
            task: async (_c: unknown, nt: any) => {
              const state = await containerState(n);
              if (recreate.has(n.name) || state !== 'running') {
                await removeNode(n);
                nt.output = 'starting';
                await createNode(n);
              }
              nt.output = 'waiting for systemd and sshd';
              await waitReady(n);
              hostKeys.set(n.name, await authorize(n));
              nt.title = `${n.name} ${n.ip}`;
            },
          })),
          { concurrent: true },
        ),
    },
    {
      title: 'pinned host keys and inventory/lab.yml',
      task: () => {
        writeKnownHosts(NODES.map((n) => hostKeys.get(n.name)!));
        writeLabInventory();
      },
    },
  ];
}

async function up(): Promise<void> {
  if (await labIsUp()) {
    // The inventory is written again all the same: a checkout whose variables changed (a renamed one is refused
    // at load) must not keep the running lab's old file.
    writeLabInventory();
    console.log('lab is up (nothing to do but inventory/lab.yml, written again)');
    return;
  }
  // The long local steps first, each on its own (ora in a terminal), then the lab's parts as a tree.
  await step('Docker engine', ensureEngine);
  await step(`base image ${IMAGE}`, ensureImage, (how) => `base image ${IMAGE} (${how})`);
  await new Listr(
    [
      { title: 'lab registry and service images', task: (_: unknown, t: any) => ensureServiceImages((s) => (t.output = s)) },
      // Built once (content-hashed tags); a lab that was up before they existed gets them from the monitoring suite.
      { title: 'monitoring images (Debian packages)', task: (_: unknown, t: any) => ensurePushed(monitoringImages(), (s) => (t.output = s)) },
      { title: `lab remote ${LAB_REMOTE.ip}:${LAB_REMOTE.port} (rclone serve sftp)`, task: (_: unknown, t: any) => ensureRemote((s) => (t.output = s)) },
      ...nodeSteps(new Set()),
    ],
    { rendererOptions: { collapseSubtasks: false } },
  ).run();
  console.log('lab is up; inventory: inventory/lab.yml');
}

async function rehearse(standins: StandinOptions): Promise<void> {
  if (!(await labIsUp())) throw new Error('the lab is not up: run `npx tsx scripts/lab.ts up` first');
  // A long local step (the first build), like up's image build.
  await step('stand-in images of the real stacks', async (say) => {
    await ensureRegistry(say);
    // With the rclone image the DSM stand-in runs off-site copies from (pushed by up; a new registry lacks it).
    await ensurePushed([...standinImages(standins), RCLONE_IMAGE], say);
  });
  writeRehearsalInventory(standins);
  await step('the nodes as the real ones are', prepareRehearsalNodes);
  console.log(`rehearsal ready: npx tsx playbooks/site.ts -i ${REHEARSAL_INVENTORY} (RIGGER_VAULT_PASSWORD=homelab-example)`);
}

/** A node's backup disk: the data node's (the NAS's backup volume) or the node's own. */
const backupVolumeOf = (n: LabNode) => (n.role === 'data' ? BACKUP_VOLUME : nodeBackupVolume(n.name));

/**
 * Fresh nodes in place: those named (all four when none is), the others left
 * running as they are. With wipeBackups their backup volumes go too, as a
 * lost node's disk would; the lab remote and its data stay (it is the cloud).
 */
async function reset(names: readonly string[], wipeBackups: boolean): Promise<void> {
  const started = Date.now();
  const chosen = NODES.filter((n) => names.includes(n.name));
  if (wipeBackups) {
    // The containers first: a volume in use cannot be removed.
    for (const n of chosen) await removeNode(n);
    await $`docker volume rm -f ${chosen.map(backupVolumeOf)}`.nothrow().quiet();
  }
  await new Listr([{ title: 'Docker engine', task: (_: unknown, t: any) => ensureEngine((s) => (t.output = s)) }, ...nodeSteps(new Set(names))], {
    rendererOptions: { collapseSubtasks: false },
  }).run();
  const which = chosen.length === NODES.length ? '' : ` (${chosen.map((n) => n.name).join(', ')} only)`;
  console.log(`lab reset${which} in ${((Date.now() - started) / 1000).toFixed(1)} s${wipeBackups ? ' (backup volume wiped too)' : ' (backup volume kept)'}`);
}

/** Every image the lab built: the base images, the registry's, and what it pushed (service, monitoring, stand-in, layout images). */
async function builtImages(): Promise<string[]> {
  const pushed = (await $`docker images -q --filter reference=${'rigger-lab-registry'} --filter reference=${'127.0.0.1:5005/lab/*'} --filter reference=${'127.0.0.1:5005/lab/*/*'}`.nothrow().quiet()).stdout.split('\n').filter(Boolean);
  return [IMAGE, TRIXIE.tag, ...pushed];
}

async function down(purge: boolean): Promise<void> {
  for (const n of NODES) await removeNode(n);
  await removeLayouts();
  await removeRegistry();
  await removeRemote();
  // The layouts' hosts got a backup volume too before they were told apart: removed with the rest.
  await $`docker volume rm -f ${BACKUP_VOLUME} ${OFFSITE_VOLUME} ${[...NODES, ...LAYOUT_NODES].map((n) => nodeBackupVolume(n.name))}`.nothrow().quiet();
  // Anything else the lab labelled (volumes or networks left by a crash).
  for (const v of (await $`docker volume ls -q --filter label=${LABEL}`.nothrow().quiet()).stdout.split('\n').filter(Boolean)) {
    await $`docker volume rm -f ${v}`.nothrow().quiet();
  }
  await $`docker network rm ${NETWORK}`.nothrow().quiet();
  // The images are kept by default: they are the lab's recipes built (debootstrap, apt), minutes of work
  // that a later `up` would repeat byte for byte, and they hold nothing of a run.
  if (purge) await $`docker image rm -f ${await builtImages()}`.nothrow().quiet();
  for (const f of [LAB_INVENTORY, CORE_EDGE_INVENTORY, SINGLE_SERVER_INVENTORY]) rmSync(f, { force: true });
  rmSync(LAB_DIR, { recursive: true, force: true });
  console.log(`lab removed${purge ? ', its images too' : ` (its built images kept: down --purge removes them)`}`);
}

async function status(): Promise<void> {
  if ((await $`docker info`.nothrow().quiet()).exitCode !== 0) {
    console.log('no Docker engine answers: the lab is down (npx tsx scripts/lab.ts up)');
    process.exitCode = 1;
    return;
  }
  const rows = await Promise.all(NODES.map(nodeStatus));
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c]!.length)));
  console.log(cols.map((c, i) => c.padEnd(width[i]!)).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => r[c]!.padEnd(width[i]!)).join('  '));
  const remote = (await remoteAnswers()) ? 'answers sftp' : 'not answering';
  console.log(`\nlab remote ${LAB_REMOTE.ip}:${LAB_REMOTE.port} (rclone serve sftp, the cloud remote's stand-in): ${remote}`);
  if (rows.some((r) => r.ssh !== 'ok') || remote !== 'answers sftp') process.exitCode = 1;
}

function ssh(name: string | undefined, command: string[]): void {
  const n = NODES.find((x) => x.name === name);
  if (!n) {
    console.error(`unknown node ${name ?? ''}; nodes: ${NODES.map((x) => x.name).join(', ')}`);
    process.exit(4);
  }
  const r = spawnSync('ssh', ['-i', LAB_KEY, '-o', `UserKnownHostsFile=${LAB_KNOWN_HOSTS}`, '-o', 'StrictHostKeyChecking=yes', `root@${n.ip}`, ...command], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/**
 * A command's arguments parsed, or undefined after printing why not: a wrong name or option is the user's
 * to fix, before anything is touched, so it exits with the usage error's code.
 */
function parsedOrUsageError<T>(parse: (args: readonly string[]) => T, args: readonly string[]): T | undefined {
  try {
    return parse(args);
  } catch (err) {
    console.error(`lab: ${(err as Error).message}`);
    process.exitCode = 4;
    return undefined;
  }
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'up':
      await up();
      if (rest.includes('--layouts')) await step('layouts: trixie hosts core, edge, single', (say) => ensureLayouts(false, say));
      break;
    case 'rehearse': {
      const standins = parsedOrUsageError(parseRehearseArgs, rest);
      if (standins) await rehearse(standins);
      break;
    }
    case 'status':
      await status();
      break;
    case 'reset': {
      const request = parsedOrUsageError(parseResetArgs, rest);
      if (!request) break;
      if (request.kind === 'layouts') {
        const only = request.names;
        await step(`layouts: fresh hosts ${only.join(', ') || 'core, edge, single'}`, (say) => ensureLayouts(true, say, only));
      } else await reset(request.names, request.wipeBackups);
      break;
    }
    case 'down':
      // --keep-image was the way to keep the images when down removed them; it is the default now.
      await down(rest.includes('--purge'));
      break;
    case 'ssh':
      ssh(rest[0], rest.slice(1));
      break;
    default:
      process.stdout.write(USAGE);
      process.exitCode = command === undefined || command === '--help' || command === '-h' ? 0 : 4;
  }
} catch (err) {
  console.error(`lab: ${(err as Error).message}`);
  process.exitCode = 1;
}
