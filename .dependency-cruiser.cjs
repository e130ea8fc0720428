// The map of lib/: its layers, bottom to top, and what each one holds.
//
// A file may import its own folder and, of the layers below its own, only
// those its layer's `mayImport` names (`typesFrom`: types only, no values);
// "below" alone is not permission. It may not import a layer above it, nor a
// folder beside it in the same layer unless `alsoUses` names that folder; lib/
// imports nothing outside lib/ but npm packages and node: built-ins; no import
// cycle, no file outside the map (neither importing nor imported), no file
// nothing imports. `npm run lint:layers` checks it (and `npm test` runs
// that), so this file stays the true description of the code's shape.
// test/unit/layers.test.ts plants imports against each rule in a copy and sees them refused.
//
// Data flows one way: inventory -> plays -> runner -> ops -> transport; run
// events flow out to the renderers. Roles, playbooks and scripts sit outside
// lib/ and may use any of it.

// `mayImport` and `typesFrom` name folders of lower layers, or single files
// (lib/-relative) where one file of a layer is all that is needed; each entry
// says why the layer needs it.
/** @type {{ name: string, holds: string, mayImport: Record<string, string>, typesFrom?: Record<string, string>, folders: Record<string, { holds: string, alsoUses?: string[] }> }[]} */
const layers = [
  {
    name: 'shell',
    holds: 'the floor: primitives every other layer needs and that need nothing of rigger',
    mayImport: {},
    folders: {
      shell: {
        holds:
          'command builder and POSIX quoting (one place where remote commands are built), stdin sources, ' +
          'Secret and its redaction, the vault, errors and source locations, zod and yaml loaded through require(), text diffs, aligned text columns',
      },
    },
  },
  {
    name: 'transport',
    holds: 'moving bytes to a host: it only needs commands, quoting and secrets from the floor',
    mayImport: { shell: 'commands to run, quoting, secrets to redact' },
    folders: { transport: { holds: 'ssh2 and local transports, known_hosts, the remote wrapper, become, the channel semaphore' } },
  },
  {
    name: 'model',
    holds: 'what a playbook is made of: the op contract, facts, tasks, blocks, handlers, roles, plays, the host context, run events',
    mayImport: { shell: 'commands, diffs, secrets, zod and source locations the types are made of' },
    typesFrom: { transport: 'the op contract names the Transport an op is handed; model never makes or calls one' },
    folders: { model: { holds: 'types and builders only; nothing here runs anything (the op contract names the transport it will be given)' } },
  },
  {
    name: 'inventory',
    holds: 'hosts, groups and variables as the user wrote them',
    mayImport: { shell: 'errors with source locations, yaml, zod, the vault' },
    folders: { inventory: { holds: 'Ansible YAML and INI, TypeScript inventories, vars files, patterns, the ansible-inventory view' } },
  },
  {
    name: 'facts',
    holds: 'read-only probes: a shell command and a pure parser of its output',
    mayImport: { shell: 'the probe commands', model: 'the fact contract a probe implements' },
    folders: { facts: { holds: 'system, packages, docker, gpu, dsm, disk use' } },
  },
  {
    name: 'runner',
    holds: 'the engine: runs plays of the model on the inventory\'s hosts through the transport',
    mayImport: {
      shell: 'commands and errors',
      transport: 'the connections it opens to hosts',
      model: 'the plays, tasks and events it runs and emits',
      inventory: 'the hosts and variables it runs on',
    },
    folders: {
      runner: { holds: 'forks, serial batches, handlers, tags, check mode, probe and path batches, run-ahead, host variables' },
    },
  },
  {
    name: 'ui',
    holds: 'renderers of run events; they never run a command',
    mayImport: { shell: 'diffs to format, secrets to redact', model: 'the run events it renders' },
    folders: { ui: { holds: 'listr2 tree, plain lines, NDJSON, recap, diffs, the --report page' } },
  },
  {
    name: 'plans',
    holds: 'saved plans: what a check-mode run decided, kept to be reviewed and then applied exactly',
    mayImport: {
      shell: 'errors, zod, secrets (whether a value holds one)',
      model: 'the run events a plan keeps and the tasks it names',
      inventory: 'the inventory files a plan digests',
      runner: 'the plan hook it implements, and the run-ahead guard\'s probe digest it builds on',
      ui: 'a refusal shows the planned diff as --diff prints it',
    },
    typesFrom: { transport: 'the probe output a decision was made from' },
    folders: { plans: { holds: 'the plan file format, keyed digests, the recorder (--plan) and the apply gate (--apply)' } },
  },
  {
    name: 'ops',
    holds: 'the general-purpose ops a user composes, one per file, grouped by what they manage',
    mayImport: {
      shell: 'commands, quoting, zod, diffs',
      model: 'the op contract',
      facts: 'probes an op reads the current state with (docker swarm, disk use)',
      'runner/probe-batch.ts': 'each() batches its probes the way the runner does: one pure script builder and splitter, no engine',
    },
    typesFrom: { transport: 'an op is handed a transport by the runner; it never opens one' },
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
    mayImport: {
      shell: 'commands and errors',
      transport: 'known_hosts for the release it ships',
      ui: 'a job prints its run with the plain renderer into its log',
    },
    typesFrom: { model: 'the run events a job\'s renderer is handed; it builds no play itself' },
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
    mayImport: {
      shell: 'commands, quoting, zod, text columns',
      transport: 'the local environment a recovery reads dumps with',
      model: 'the op contract',
      facts: 'probes (disk use, docker) their checks read',
      ops: 'the general ops they compose',
      scheduled: 'the backup schedules its jobs with the scheduled runner',
    },
    typesFrom: { runner: 'the playbook context a backup\'s hosts are chosen from; a domain never runs plays itself' },
    folders: {
      backup: { holds: 'backup sets: variables, the remote bash scripts, listings and manifests, retention, off-site copies, schedules, reports; ops/: its steps' },
      recovery: {
        holds: 'disaster recovery: restore scripts, the resume marker, the local pg_restore reader, the report; ops/: its steps',
        alsoUses: ['backup'],
      },
      pitr: {
        holds: "PostgreSQL's point-in-time recovery: the WAL archiver, base backups, the archive staged on the database's host (streamed as backup's sets are), the restore to a time; ops/: its steps",
        alsoUses: ['backup'],
      },
      monitoring: { holds: 'the alert table; ops/: the monitoring check' },
      daily: { holds: 'the daily check\'s thresholds and parsers; ops/: its readings (the backup copy reading judges a copy as backup/copy-state.ts does)', alsoUses: ['backup'] },
      strategies: { holds: 'releases that compose ops across hosts and wait: blue-green' },
    },
  },
  {
    name: 'runs',
    holds: 'run records and resuming: what a run did, kept under .rigger/runs/, and where a resumed run starts again',
    mayImport: {
      shell: 'secrets to keep out of a record, errors',
      model: 'the plays, tasks and handlers a record names',
      inventory: 'the hosts and variables a record fingerprints',
      runner: 'the progress and resume seams it implements, and the play lists it walks',
    },
    folders: { runs: { holds: 'the record format (versioned), the store (atomic writes, the last 20 per playbook), the recorder, the resume planner, fingerprints' } },
  },
  {
    name: 'cli',
    holds: 'the only place that knows argv, renderers and exit codes',
    mayImport: {
      shell: 'errors, the vault, quoting',
      transport: 'the connection flags it turns into transports',
      model: 'plays and events',
      inventory: 'the -i inventory it loads',
      runner: 'the engine it starts',
      ui: 'the renderers it picks',
      plans: '--plan, --apply and `rigger plan show`',
      'ops/files/temp-name.ts': 'the temp-name key a plan fixes, so a planned change sends the same bytes at apply',
      runs: 'the run record it writes and the record --resume reads',
    },
    folders: { cli: { holds: 'the flag parser, runPlaybook(), the rigger command and its subcommands' } },
  },
  {
    name: 'api',
    holds: 'the package\'s public API: re-exports only',
    mayImport: {
      shell: 're-exported (sh, secret, the vault, errors, z)',
      model: 're-exported (definePlay, defineRole, defineOp...)',
      inventory: 're-exported (defineInventory, loadInventory)',
      facts: 're-exported (the facts namespace)',
      ops: 're-exported (the ops namespace)',
      domains: 're-exported (ops.monitoring, ops.daily, strategies)',
      cli: 're-exported (runPlaybook)',
    },
    typesFrom: { transport: 'ExecResult and HostKeyMode, named by public signatures', runner: 'TaskOutcome, named by public signatures' },
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

/** The folders of a layer named in an allow list (a layer name), or the file itself (a path). */
const allowed = (names) =>
  Object.keys(names).flatMap((n) => {
    const layer = layers.find((l) => l.name === n);
    return layer ? anyOf(Object.keys(layer.folders)) : [pathOf(n)];
  });

const unlisted = layers
  .map((layer, i) => ({ layer, below: layers.slice(0, i).flatMap((l) => Object.keys(l.folders)) }))
  .filter(({ below }) => below.length > 0)
  .map(({ layer, below }) => ({
    name: `only-listed-from-${layer.name}`,
    comment: `${layer.name} imports of the layers below only what it lists: ${Object.keys(layer.mayImport).join(', ') || 'nothing'}${layer.typesFrom ? `; types of ${Object.keys(layer.typesFrom).join(', ')}` : ''}`,
    severity: 'error',
    from: { path: anyOf(Object.keys(layer.folders)) },
    to: { path: anyOf(below), pathNot: allowed({ ...layer.mayImport, ...layer.typesFrom }) },
  }));

const typesOnly = layers
  .filter((layer) => layer.typesFrom)
  .map((layer) => ({
    name: `types-only-from-${layer.name}`,
    comment: `${layer.name} imports only types of ${Object.keys(layer.typesFrom).join(', ')}: ${Object.values(layer.typesFrom).join('; ')}`,
    severity: 'error',
    from: { path: anyOf(Object.keys(layer.folders)) },
    to: { path: allowed(layer.typesFrom), dependencyTypesNot: ['type-only'] },
  }));

const inMap = anyOf(layers.flatMap((l) => Object.keys(l.folders)));

module.exports = {
  forbidden: [
    ...upward,
    ...sideways,
    ...unlisted,
    ...typesOnly,
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
      from: { path: '^lib/', pathNot: inMap },
      to: {},
    },
    {
      name: 'imported-in-the-map',
      comment:
        'the mirror of in-the-map: a file under lib/ outside every layer is refused where it is imported too, ' +
        'so one that imports nothing of lib/ cannot slip through',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/', pathNot: inMap },
    },
    {
      name: 'lib-stays-in-lib',
      comment:
        'lib/ is the package: it imports npm packages, node: built-ins and itself, never scripts/, test/, roles/, ' +
        'playbooks/ or anything else of the repository (those sit outside the package and use it, not the reverse)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { pathNot: ['^lib/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
  ],
  options: {
    // Follow lib/'s imports wherever they lead (not only into lib/), so an
    // import of scripts/ or test/ is seen; npm packages are listed, not read.
    doNotFollow: { path: '(^|/)node_modules/' },
    // Type-only imports count: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
