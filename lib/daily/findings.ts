/**
 * The daily check's verdicts: pure parsers of what the nodes and the
 * manager print, judged against thresholds the inventory sets
 * (roles/daily-check.ts); the defaults are the operators' monitor.sh values
 * (../shared/operators/000, section 6.4). No I/O here.
 */

import { realMounts } from '../facts/disk-use.ts';
import { describeOverride, parseOverrideLines, type ScaleOverride } from '../ops/docker/scale-override.ts';

export type Level = 'pass' | 'warn' | 'fail';

export interface Finding {
  area: string;
  subject: string;
  level: Level;
  detail: string;
}

export const DAY_MS = 24 * 3600_000;

export interface Thresholds {
  /** Disk use per mount: warn from, fail from (monitor.sh's DISK_THRESHOLD 85 is the failure). */
  diskWarn: number;
  diskFail: number;
  /** CPU busy over a one-second sample: warn over (monitor.sh's CPU_THRESHOLD). */
  cpuWarnPercent: number;
  /** Memory used (total less available, as `free` counts it): warn over (MEMORY_THRESHOLD). */
  memUsedWarnPercent: number;
  /** The 1-minute load average: warn over (LOAD_THRESHOLD, absolute, not per CPU). */
  loadWarn: number;
  /** Each GPU's memory used: warn over (monitor.sh's check_gpu, 90). */
  gpuMemWarnPercent: number;
  certWarnDays: number;
  backupMaxHours: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { diskWarn: 80, diskFail: 85, cpuWarnPercent: 80, memUsedWarnPercent: 85, loadWarn: 5, gpuMemWarnPercent: 90, certWarnDays: 30, backupMaxHours: 26 };

/** Busy share of all CPUs between two `head -n1 /proc/stat` lines (idle and iowait are not busy); undefined without two samples. */
export function cpuBusyPercent(lines: string[]): number | undefined {
  const sample = (l: string | undefined) => {
    const n = (l ?? '').trim().split(/\s+/).slice(1).map(Number);
    return n.length >= 4 && n.every(Number.isFinite) ? { total: n.reduce((a, b) => a + b, 0), idle: n[3]! + (n[4] ?? 0) } : undefined;
  };
  const [a, b] = [sample(lines[0]), sample(lines[1])];
  if (!a || !b || b.total <= a.total) return undefined;
  return (100 * (b.total - a.total - (b.idle - a.idle))) / (b.total - a.total);
}

// Which mounts count, and the df line that reads them, are shared with
// deploy's pre-check (an op below this domain): they live in facts/disk-use.ts.
export { DF_LINES, realMounts, type MountUse } from '../facts/disk-use.ts';

/** A node's own report: sections marked @@name, as the node probe prints them. */
export function sections(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)(?: (.*))?$/.exec(line);
    if (m) {
      cur = m[1]!;
      out[cur] = m[2] !== undefined ? [m[2]] : [];
    } else if (cur && line.trim()) out[cur]!.push(line);
  }
  return out;
}

export function nodeFindings(host: string, text: string, t: Thresholds = DEFAULT_THRESHOLDS): Finding[] {
  const s = sections(text);
  const f: Finding[] = [];
  for (const { mount, percent: use } of realMounts(s.df ?? [])) {
    const level: Level = use >= t.diskFail ? 'fail' : use >= t.diskWarn ? 'warn' : 'pass';
    f.push({ area: 'disk', subject: `${host}:${mount}`, level, detail: `${use}% used${level === 'pass' ? '' : ` (warn ${t.diskWarn}%, fail ${t.diskFail}%)`}` });
  }
  const mem = Object.fromEntries((s.mem ?? []).map((l) => l.split(/\s+/)).map(([k = '', v = '0']) => [k.replace(':', ''), Number(v)]));
  if (mem.MemTotal) {
    const avail = mem.MemAvailable ?? 0;
    const used = (100 * (mem.MemTotal - avail)) / mem.MemTotal;
    const level: Level = used > t.memUsedWarnPercent ? 'warn' : 'pass';
    f.push({ area: 'memory', subject: host, level, detail: `${used.toFixed(1)}% used, ${Math.round(avail / 1024)} MB available${level === 'pass' ? '' : ` (warn over ${t.memUsedWarnPercent}%)`}` });
  }
  const [load = '', cpus = '1'] = s.load ?? [];
  const load1 = Number(load.split(' ')[0]);
  if (load && Number.isFinite(load1)) {
    const level: Level = load1 > t.loadWarn ? 'warn' : 'pass';
    f.push({ area: 'load', subject: host, level, detail: `${load.split(' ').slice(0, 3).join(' ')} on ${cpus} CPUs${level === 'pass' ? '' : ` (warn over ${t.loadWarn})`}` });
  }
  const busy = cpuBusyPercent(s.cpu ?? []);
  if (busy !== undefined) {
    const level: Level = busy > t.cpuWarnPercent ? 'warn' : 'pass';
    f.push({ area: 'cpu', subject: host, level, detail: `${busy.toFixed(1)}% busy over 1 s${level === 'pass' ? '' : ` (warn over ${t.cpuWarnPercent}%)`}` });
  }
  f.push(...gpuFindings(host, s.gpu ?? [], t), containerFinding(host, s.unhealthy ?? []));
  const count = Number((s.jcount ?? ['0'])[0]);
  const top = (s.journal ?? []).slice(0, 3).map((l) => l.trim()).join(' | ');
  f.push({ area: 'journal', subject: host, level: count > 0 ? 'warn' : 'pass', detail: count > 0 ? `${count} errors in 24 h; top: ${top}` : 'no errors in 24 h' });
  return f;
}

/** `nvidia-smi --query-gpu=index,memory.used,memory.total --format=csv,noheader,nounits` lines; a GPU that reports no memory ([N/A]) is left out. */
export function gpuFindings(host: string, lines: string[], t: Thresholds = DEFAULT_THRESHOLDS): Finding[] {
  return lines.flatMap((l) => {
    const [index = '', usedText = '', totalText = ''] = l.split(',').map((x) => x.trim());
    const [used, total] = [Number(usedText), Number(totalText)];
    if (!usedText || !Number.isFinite(used) || !Number.isFinite(total) || total <= 0) return [];
    const pct = Math.round((100 * used) / total);
    const level: Level = pct > t.gpuMemWarnPercent ? 'warn' : 'pass';
    return [{ area: 'gpu', subject: `${host}:gpu${index}`, level, detail: `memory ${pct}% used (${used}/${total} MiB)${level === 'pass' ? '' : ` (warn over ${t.gpuMemWarnPercent}%)`}` }];
  });
}

/** `docker ps --filter health=unhealthy` lines ("name status"): any fails, as monitor.sh reports them CRITICAL. */
export function containerFinding(host: string, unhealthy: string[]): Finding {
  const names = unhealthy.map((l) => l.trim()).filter(Boolean);
  return names.length
    ? { area: 'containers', subject: host, level: 'fail', detail: `unhealthy: ${names.join('; ')}` }
    : { area: 'containers', subject: host, level: 'pass', detail: 'none unhealthy' };
}

/** `docker node ls` lines: "host status availability". */
export function swarmNodeFindings(lines: string[]): Finding[] {
  return lines.map((l) => {
    const [host = '', status = '', availability = ''] = l.trim().split(/\s+/);
    const level: Level = status !== 'Ready' ? 'fail' : availability !== 'Active' ? 'warn' : 'pass';
    return { area: 'swarm', subject: host, level, detail: `${status}, ${availability.toLowerCase()}` };
  });
}

/** `@@scales` lines, "name {labels as JSON}": the services an operator scaled (playbooks/scale.ts). */
export const scaleOverrides = (lines: string[]): Map<string, ScaleOverride> => parseOverrideLines(lines);

/**
 * `docker service ls` lines ("name mode running/desired") and each task's
 * "service state timestamp": a service short of replicas or scaled to 0
 * fails, unless an operator scaled it so (scale.ts) and it runs what they
 * chose: that is intended, and reported with their reason, name and time;
 * failed tasks in the last 24 h are restarts (a warning).
 */
export function serviceFindings(services: string[], tasks: string[], now: number, scales: ReadonlyMap<string, ScaleOverride> = new Map()): Finding[] {
  const restarts = new Map<string, number>();
  for (const t of tasks) {
    const [svc = '', state = '', ts = ''] = t.trim().split(/\s+/);
    if ((state === 'failed' || state === 'rejected') && now - Date.parse(ts) < DAY_MS) restarts.set(svc, (restarts.get(svc) ?? 0) + 1);
  }
  return services.flatMap((l) => {
    const m = /^(\S+) (\S+) (\d+)\/(\d+)/.exec(l.trim());
    if (!m) return [];
    const [, name = '', mode = '', run = '0', want = '0'] = m;
    const r = restarts.get(name) ?? 0;
    const scaled = scales.get(name);
    if (scaled && mode === 'replicated' && Number(want) === scaled.replicas && Number(run) === scaled.replicas) {
      return [{ area: 'service', subject: name, level: r > 0 ? 'warn' : 'pass', detail: `intended: ${describeOverride(scaled)}; ${run}/${want} replicas; ${r} restarts in 24 h` }];
    }
    const level: Level = Number(run) < Number(want) || (mode === 'replicated' && want === '0') ? 'fail' : r > 0 ? 'warn' : 'pass';
    const why = want === '0' && mode === 'replicated' ? 'scaled to 0: nothing serves it' : `${run}/${want} replicas`;
    const drifted = scaled ? ` (scale.ts recorded ${scaled.replicas}: ${describeOverride(scaled)})` : '';
    return [{ area: 'service', subject: name, level, detail: `${why}${drifted}; ${r} restarts in 24 h` }];
  });
}

/** curl -v's "expire date: Jan  1 00:00:00 2027 GMT" for an HTTPS endpoint. */
export function certFinding(endpoint: string, expire: string | undefined, now: number, t: Thresholds = DEFAULT_THRESHOLDS): Finding {
  const at = expire ? Date.parse(expire) : NaN;
  if (!Number.isFinite(at)) return { area: 'tls', subject: endpoint, level: 'fail', detail: 'no certificate read (unreachable, or not HTTPS)' };
  const days = Math.floor((at - now) / DAY_MS);
  return { area: 'tls', subject: endpoint, level: days < 0 ? 'fail' : days < t.certWarnDays ? 'warn' : 'pass', detail: days < 0 ? `expired ${-days} days ago` : `expires in ${days} days` };
}

/** The newest published set's manifest `created` time; none at all fails too. */
export function backupFinding(host: string, set: string | undefined, created: string | undefined, now: number, t: Thresholds = DEFAULT_THRESHOLDS): Finding {
  if (!set || !created || !Number.isFinite(Date.parse(created))) return { area: 'backup', subject: host, level: 'fail', detail: 'no verified backup set' };
  const hours = (now - Date.parse(created)) / 3600_000;
  return { area: 'backup', subject: host, level: hours > t.backupMaxHours ? 'fail' : 'pass', detail: `newest verified set ${set}, ${hours.toFixed(1)} h old (fail over ${t.backupMaxHours} h)` };
}

/**
 * The newest set's second copy (docs/backups.md): with no copy host (one
 * backup host) a warning; a copy missing or damaged (a file missing, a size
 * or a sha256 differing) a failure naming the set.
 */
export function copyFinding(host: string, copyHost: string | undefined, set: string | undefined, copy: { state: 'verified' | 'missing' | 'damaged'; problem?: string | undefined } | undefined): Finding {
  const subject = host;
  if (!copyHost) return { area: 'backup copy', subject, level: 'warn', detail: 'one copy only: no copy host (a single backup host)' };
  if (!set) return { area: 'backup copy', subject, level: 'fail', detail: `no verified set to have a copy on ${copyHost}` };
  if (!copy || copy.state === 'missing') return { area: 'backup copy', subject, level: 'fail', detail: `newest set ${set} has no copy on ${copyHost}` };
  if (copy.state === 'damaged') return { area: 'backup copy', subject, level: 'fail', detail: `newest set ${set}: its copy on ${copyHost} is damaged: ${copy.problem ?? ''}` };
  return { area: 'backup copy', subject, level: 'pass', detail: `newest set ${set} verified on ${copyHost} (sha256 of every file)` };
}

/** What the database says of the archiver's slot: its row of pg_replication_slots, or why it could not be read. */
export type SlotReading = { state: 'row'; active: boolean; walStatus: string } | { state: 'missing' } | { state: 'unread'; why: string };

/**
 * Point in time's archiver (docs/backups.md), judged by the database's
 * replication slot, since pg_receivewal retrying a lost slot keeps its
 * container running: no slot, an inactive one (nothing streams) or one
 * whose WAL was dropped (wal_status 'lost': the archive has a gap) fails;
 * 'unreserved' (the next WAL the archiver needs is past
 * max_slot_wal_keep_size and goes at the next checkpoint) warns.
 */
export function archiverFinding(dbHost: string, slot: string, archiveHost: string, r: SlotReading): Finding {
  const f = (level: Finding['level'], detail: string): Finding => ({ area: 'pitr archiver', subject: dbHost, level, detail });
  if (r.state === 'unread') return f('fail', `cannot read slot ${slot}: ${r.why}`);
  if (r.state === 'missing') return f('fail', `slot ${slot} is missing: no WAL is kept for the archiver on ${archiveHost} (site.ts and the nightly backup.ts make it and start the archiver)`);
  if (r.walStatus === 'lost') return f('fail', `slot ${slot} lost its WAL (wal_status lost): the archive on ${archiveHost} has a gap; recovery to a time after it needs a new base backup`);
  if (!r.active) return f('fail', `slot ${slot} is inactive: pg_receivewal on ${archiveHost} is not streaming (wal_status ${r.walStatus || 'none'})`);
  if (r.walStatus === 'unreserved') return f('warn', `slot ${slot}: the archiver on ${archiveHost} is behind past max_slot_wal_keep_size (wal_status unreserved): its WAL goes at the next checkpoint`);
  return f('pass', `slot ${slot} active, streaming to ${archiveHost} (wal_status ${r.walStatus})`);
}

/** The probe's lines (`@@slot ACTIVE WAL_STATUS`, `@@noslot`, `@@unread WHY`) as a SlotReading. */
export function parseSlotReading(stdout: string): SlotReading {
  const line = stdout.split('\n').find((l) => l.startsWith('@@'))?.trim() ?? '';
  const [tag, ...rest] = line.split(' ');
  if (tag === '@@slot') return { state: 'row', active: rest[0] === 't', walStatus: rest[1] ?? '' };
  if (tag === '@@noslot') return { state: 'missing' };
  return { state: 'unread', why: tag === '@@unread' ? rest.join(' ') : `unexpected output: ${stdout.trim().slice(0, 200)}` };
}
