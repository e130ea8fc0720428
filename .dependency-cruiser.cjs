// The map of lib/: its layers, bottom to top, and what each one holds.
//
// A file may import its own folder and the layers below its own. It may not
// import a layer above it, nor a folder beside it in the same layer unless
// `alsoUses` names that folder; no import cycle, no file outside the map, no
// file nothing imports. `npm run lint:layers` checks it (and `npm test` runs
// that), so this file stays the true description of the code's shape.
// test/unit/layers.test.ts plants an upward import in a copy and sees it refused.
//
// Data flows one way: inventory -> plays -> runner -> ops -> transport; run
// events flow out to the renderers. Roles, playbooks and scripts sit outside
// lib/ and may use any of it.

/** @type {{ name: string, holds: string, folders: Record<string, { holds: string, alsoUses?: string[] }> }[]} */
const layers = [
  {
    name: 'shell',
    holds: 'the floor: primitives every other layer needs and that need nothing of rigger',
    folders: {
      shell: {
        holds:
          'command builder and POSIX quoting (one place where remote commands are built), stdin sources, ' +
          'Secret and its redaction, the vault, errors and source locations, zod and yaml loaded through require(), text diffs',
      },
    },
  },
  {
    name: 'transport',
    holds: 'moving bytes to a host: it only needs commands, quoting and secrets from the floor',
    folders: { transport: { holds: 'ssh2 and local transports, known_hosts, the remote wrapper, become, the channel semaphore' } },
  },
  {
    name: 'model',
    holds: 'what a playbook is made of: the op contract, facts, tasks, blocks, handlers, roles, plays, the host context, run events',
    folders: { model: { holds: 'types and builders only; nothing here runs anything (the op contract names the transport it will be given)' } },
  },
  {
    name: 'inventory',
    holds: 'hosts, groups and variables as the user wrote them',
    folders: { inventory: { holds: 'Ansible YAML and INI, TypeScript inventories, vars files, patterns, the ansible-inventory view' } },
  },
  {
    name: 'facts',
    holds: 'read-only probes: a shell command and a pure parser of its output',
    folders: { facts: { holds: 'system, packages, docker, gpu, dsm, disk use' } },
  },
  {
    name: 'runner',
    holds: 'the engine: runs plays of the model on the inventory\'s hosts through the transport',
    folders: {
      runner: { holds: 'forks, serial batches, handlers, tags, check mode, probe and path batches, run-ahead, host variables' },
    },
  },
  {
    name: 'ui',
    holds: 'renderers of run events; they never run a command',
    folders: { ui: { holds: 'listr2 tree, plain lines, NDJSON, recap, diffs, the --report page, column layout' } },
  },
  {
    name: 'ops',
    holds: 'the general-purpose ops a user composes, one per file, grouped by what they manage',
    folders: {
      ops: {
        holds:
          'files, apt, systemd, mount, cron, system, firewall, command, docker (with the swarm rollout its deploy ops run), ' +
          'compose, podman, caddy, postgres, webhook, each, assert',
      },
    },
  },
  {
    name: 'scheduled',
    holds: 'the scheduled runner: a release of rigger run by systemd timers on a scheduler host',
    folders: {
      scheduled: {
        holds:
          'the release bundle, the job runner, its outcome and webhook. Below the domains, not inside one: ' +
          'the backup schedules its jobs with it and so does the daily check',
      },
    },
  },
  {
    name: 'domains',
    holds: 'one folder per domain, with its own ops, scripts and remote helpers; they compose the ops below',
    folders: {
      backup: { holds: 'backup sets: variables, the remote bash scripts, listings and manifests, retention, off-site copies, schedules, reports; ops/: its steps' },
      recovery: {
        holds: 'disaster recovery: restore scripts, the resume marker, the local pg_restore reader, the report; ops/: its steps',
        alsoUses: ['backup'],
      },
      monitoring: { holds: 'the alert table; ops/: the monitoring check' },
      daily: { holds: 'the daily check\'s thresholds and parsers; ops/: its readings' },
      strategies: { holds: 'releases that compose ops across hosts and wait: blue-green' },
    },
  },
  {
    name: 'cli',
    holds: 'the only place that knows argv, renderers and exit codes',
    folders: { cli: { holds: 'the flag parser, runPlaybook(), the rigger command and its subcommands' } },
  },
  {
    name: 'api',
    holds: 'the package\'s public API: re-exports only',
    folders: {
      'index.ts': { holds: 'what `import ... from \'rigger-ops\'` gives', alsoUses: ['public-ops.ts'] },
      'public-ops.ts': { holds: 'the ops namespace: lib/ops plus ops.monitoring and ops.daily' },
    },
  },
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** lib/NAME/ for a folder, lib/NAME exactly for a file of the top layer. */
const pathOf = (folder) => (folder.endsWith('.ts') ? `^lib/${escape(folder)}$` : `^lib/${escape(folder)}/`);
const anyOf = (folders) => folders.map(pathOf);

const upward = layers.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} (${layer.holds}) imports only the layers below it: ${layers.slice(0, i).map((l) => l.name).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: anyOf(Object.keys(layer.folders)) },
  to: { path: anyOf(layers.slice(i + 1).flatMap((l) => Object.keys(l.folders))) },
}));

const sideways = layers.flatMap((layer) =>
  Object.entries(layer.folders)
    .map(([folder, { alsoUses = [] }]) => ({
      folder,
      beside: Object.keys(layer.folders).filter((f) => f !== folder && !alsoUses.includes(f)),
    }))
    .filter(({ beside }) => beside.length > 0)
    .map(({ folder, beside }) => ({
      name: `no-sideways-from-${folder}`,
      comment: `${folder} does not import the folders beside it in the ${layer.name} layer (${beside.join(', ')})`,
      severity: 'error',
      from: { path: pathOf(folder) },
      to: { path: anyOf(beside) },
    })),
);

module.exports = {
  forbidden: [
    ...upward,
    ...sideways,
    {
      name: 'no-circular',
      comment: 'no import cycle, of values or of types: a cycle makes two files one unit that cannot be read or moved alone',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'every file under lib/ is imported by another (the package entry points import the rest) or imports one',
      severity: 'error',
      from: { orphan: true, path: '^lib/' },
      to: {},
    },
    {
      name: 'in-the-map',
      comment: 'every file under lib/ belongs to a layer named above: a new folder is placed in the map first',
      severity: 'error',
      from: { path: '^lib/', pathNot: anyOf(layers.flatMap((l) => Object.keys(l.folders))) },
      to: {},
    },
  ],
  options: {
    includeOnly: '^lib/',
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
