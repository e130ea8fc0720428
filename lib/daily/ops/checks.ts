import { z } from '../../shell/zod.ts';
import { Command, raw, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { OVERRIDES_LIST } from '../../ops/docker/scale-override.ts';
import { CONTAINER_OF } from '../../ops/docker/container-of.ts';
import { copyStateCommand, parseCopyState } from '../../backup/copy-state.ts';
import { archiverFinding, parseSlotReading, backupFinding, copyFinding, certFinding, DEFAULT_THRESHOLDS, DF_LINES, nodeFindings, scaleOverrides, sections, serviceFindings, swarmNodeFindings, type Finding } from '../findings.ts';

const percent = z.number().min(0).max(100);
/** The node reading's thresholds (lib/daily/findings.ts Thresholds); the inventory's names are in roles/daily-check.ts. */
const nodeThresholds = z
  .object({ diskWarn: percent, diskFail: percent, cpuWarnPercent: percent, memUsedWarnPercent: percent, loadWarn: z.number().positive(), gpuMemWarnPercent: percent, certWarnDays: z.number().int().nonnegative(), backupMaxHours: z.number().positive() })
  .strict()
  .default(DEFAULT_THRESHOLDS);

const verdict = (what: string, f: Finding[]): Decision<Finding[]> => {
  const bad = f.filter((x) => x.level !== 'pass');
  return { kind: 'ok', result: f, msg: bad.length ? `${what}: ${bad.map((b) => `${b.level} ${b.subject} ${b.detail}`).join('; ')}` : `${what}: ${f.length} checks pass` };
};

/** Disk use per mount, memory, load, CPU, GPU memory, unhealthy containers and the journal's errors of the last 24 h, on one node. */
export const node = defineOp({
  kind: 'daily.node',
  schema: z.object({ host: z.string(), thresholds: nodeThresholds }).strict(),
  describe: () => 'disk, memory, load, cpu, gpu, containers, journal',
  readOnly: true,
  probe: () => ({
    command: sh`echo @@df; ${raw(DF_LINES)}
echo @@mem; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo | awk '{ print $1, $2 }'
echo @@load; cut -d' ' -f1-3 /proc/loadavg; nproc
echo @@cpu; head -n1 /proc/stat; sleep 1; head -n1 /proc/stat
echo @@gpu; nvidia-smi --query-gpu=index,memory.used,memory.total --format=csv,noheader,nounits 2>/dev/null
echo @@unhealthy; docker ps --filter health=unhealthy --format '{{.Names}} {{.Status}}' 2>/dev/null
echo "@@jcount $(journalctl -p err --since -24h -o cat --no-pager -q 2>/dev/null | wc -l)"
echo @@journal; journalctl -p err --since -24h -o cat --no-pager -q 2>/dev/null | sort | uniq -c | sort -rn | head -3; true`,
    parse: (r: ExecResult) => r.stdout.toString('utf8'),
  }),
  decide: (p, text: string) => verdict('node', nodeFindings(p.host, text, p.thresholds)),
});

/** Node readiness and availability, every service's replicas and restarts, and HTTPS certificates, read on a manager. */
export const swarm = defineOp({
  kind: 'daily.swarm',
  schema: z.object({ tlsEndpoints: z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d+$/, 'HOST:PORT')).default([]), certWarnDays: z.number().int().nonnegative().default(DEFAULT_THRESHOLDS.certWarnDays) }).strict(),
  describe: (p) => `swarm nodes, services${p.tlsEndpoints.length ? `, ${p.tlsEndpoints.length} certificates` : ''}`,
  readOnly: true,
  probe: (p) => ({
    command: Command.join(
      [
        sh`echo @@nodes; docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'
echo @@services; docker service ls --format '{{.Name}} {{.Mode}} {{.Replicas}}'
echo @@scales; ${raw(OVERRIDES_LIST)}
echo @@tasks; for s in $(docker service ls -q); do name=$(docker service inspect --format '{{.Spec.Name}}' $s); docker service ps -q --no-trunc $s | xargs -r docker inspect --format "$name {{.Status.State}} {{.Status.Timestamp}}"; done`,
        ...p.tlsEndpoints.map((e) => sh`echo ${`@@tls ${e}`}; curl -skv -o /dev/null -m 10 ${`https://${e}/`} 2>&1 | sed -n 's/^[*]  *expire date: //p'`),
      ],
      '\n',
    ),
    parse: (r: ExecResult) => r.stdout.toString('utf8'),
  }),
  decide: (p, text: string) => {
    const now = Date.now();
    const s = sections(text);
    const certs = p.tlsEndpoints.map((e) => {
      const block = text.split(`@@tls ${e}\n`)[1]?.split('\n')[0];
      return certFinding(e, block && !block.startsWith('@@') ? block : undefined, now, { ...DEFAULT_THRESHOLDS, certWarnDays: p.certWarnDays });
    });
    return verdict('swarm', [...swarmNodeFindings(s.nodes ?? []), ...serviceFindings(s.services ?? [], s.tasks ?? [], now, scaleOverrides(s.scales ?? [])), ...certs]);
  },
});

/**
 * The newest published set's name under a backup root (a set counts when its
 * manifest is there and its name is only the stamp: the set script writes the
 * manifest inside STAMP.partial before the rename that publishes it).
 */
export const newestSetCommand = (root: string) => sh`newest=$(for d in ${root}/[0-9]*_[0-9]*; do case \${d##*/} in *.*) continue ;; esac; [ -f "$d/manifest.json" ] && basename "$d"; done 2>/dev/null | sort | tail -n1)
echo "@@set $newest"`;

/**
 * The newest set's second copy, read on its copy host (Remote.onHost) under
 * `copyDir` (its copies/HOST): every file's sha256 against the copy's
 * manifest. Without a copy host, a warning: one copy only.
 */
export const backupCopy = defineOp({
  kind: 'daily.backup-copy',
  schema: z.object({ host: z.string(), root: z.string().startsWith('/'), copyHost: z.string().optional(), copyDir: z.string().startsWith('/').optional() }).strict(),
  describe: (p) => (p.copyHost ? `the newest set's copy on ${p.copyHost}` : 'the newest set\'s copy (no copy host)'),
  readOnly: true,
  probe: (p) => ({ command: newestSetCommand(p.root), parse: (r: ExecResult) => sections(r.stdout.toString('utf8')).set?.[0]?.trim() || undefined }),
  decide: (p, set: string | undefined): Decision<Finding[]> => {
    if (!p.copyHost || !p.copyDir || !set) return verdict('backup copy', [copyFinding(p.host, p.copyHost, set, undefined)]);
    const copyHost = p.copyHost;
    const dir = `${p.copyDir}/${set}`;
    return {
      kind: 'change',
      msg: `read ${copyHost}:${dir}`,
      checkResult: [],
      apply: async (remote) => {
        if (!remote.onHost) throw new Error('the copy is read through the run (Remote.onHost)');
        const r = await remote.onHost(copyHost).run(copyStateCommand(dir, true));
        const f = [copyFinding(p.host, copyHost, set, parseCopyState(r, set, true))];
        return f;
      },
    };
  },
});

const pgName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a PostgreSQL name: lower-case letters, digits and _');

/**
 * Point in time's archiver, judged on the database's host by the server's
 * replication slot (pg_replication_slots: active, wal_status), read with
 * psql in the service's running container as the admin role. The slot's
 * name is a checked PostgreSQL name, so it goes into the query as a literal.
 */
export const pitrArchiver = defineOp({
  kind: 'daily.pitr-archiver',
  schema: z.object({ host: z.string(), service: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/), admin: pgName, slot: pgName, archiveHost: z.string() }).strict(),
  describe: (p) => `slot ${p.slot} of ${p.service}`,
  readOnly: true,
  probe: (p) => ({
    command: sh`${raw(CONTAINER_OF)}
c=$(container_of ${p.service}) || { echo '@@unread no running container of '${p.service}' on this host'; exit 0; }
e=$(mktemp) || exit 1
row=$(docker exec "$c" psql -U ${p.admin} -d postgres -XAtF ' ' -c ${`SELECT active, coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = '${p.slot}'`} 2>"$e") || { rc=$?; echo "@@unread psql exited $rc: $(tr -s '[:space:]' ' ' < "$e")"; rm -f -- "$e"; exit 0; }
rm -f -- "$e"
if [ -n "$row" ]; then echo "@@slot $row"; else echo '@@noslot'; fi`,
    parse: (r: ExecResult) => parseSlotReading(r.stdout.toString('utf8')),
  }),
  decide: (p, reading: ReturnType<typeof parseSlotReading>) => verdict('pitr archiver', [archiverFinding(p.host, p.slot, p.archiveHost, reading)]),
});

/** The age of the newest verified (published) backup set under the backup root. */
export const backup = defineOp({
  kind: 'daily.backup',
  schema: z.object({ host: z.string(), root: z.string().startsWith('/'), maxHours: z.number().positive().default(DEFAULT_THRESHOLDS.backupMaxHours) }).strict(),
  describe: (p) => `newest backup set in ${p.root}`,
  readOnly: true,
  probe: (p) => ({
    command: sh`newest=$(for d in ${p.root}/[0-9]*_[0-9]*; do [ -f "$d/manifest.json" ] && basename "$d"; done 2>/dev/null | sort | tail -n1)
echo "@@set $newest"
[ -n "$newest" ] && echo "@@created $(grep -o '"created": *"[^"]*"' ${p.root}/"$newest"/manifest.json | head -n1 | cut -d'"' -f4)"; true`,
    parse: (r: ExecResult) => sections(r.stdout.toString('utf8')),
  }),
  decide: (p, s: Record<string, string[]>) => verdict('backup', [backupFinding(p.host, s.set?.[0]?.trim() || undefined, s.created?.[0], Date.now(), { ...DEFAULT_THRESHOLDS, backupMaxHours: p.maxHours })]),
});
