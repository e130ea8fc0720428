import type { ServiceHealth } from '../ops/docker/health.ts';

export interface PhaseTiming {
  phase: string;
  seconds: number;
}

/** Phase durations from the times each phase's first play started and the run's end. */
export function phaseTimings(starts: { phase: string; at: number }[], endAt: number): PhaseTiming[] {
  const firsts: { phase: string; at: number }[] = [];
  for (const s of starts) if (!firsts.some((f) => f.phase === s.phase)) firsts.push(s);
  return firsts.map((f, i) => ({ phase: f.phase, seconds: ((firsts[i + 1]?.at ?? endAt) - f.at) / 1000 }));
}

/** Where one backup host's set came from, and the items it holds. */
export interface SourceLine {
  host: string;
  set: string;
  origin: 'own' | 'copy' | 'offsite';
  originHost?: string | undefined;
  items: string[];
  /** The host still held its data: nothing of its set was restored (a recovery of the lost hosts only). */
  kept?: boolean;
}

const whereFrom = (s: SourceLine) =>
  s.origin === 'own' ? `${s.host}'s own disk` : s.origin === 'copy' ? `the copy on ${s.originHost ?? 'the copy host'}` : 'the off-site remote';

export interface RecoveryReport {
  set?: string;
  /** Per backup host: its set's origin; the report names it for each item. */
  sources?: SourceLine[];
  timings: PhaseTiming[];
  totalSeconds: number;
  databases: { database: string; tables: Record<string, number> }[];
  volumes: { volume: string; files: number }[];
  unhealthy: ServiceHealth[];
  /** Why the recovery stopped, when it did. */
  stopped?: string;
  check: boolean;
}

export function recoveryReportText(r: RecoveryReport): string {
  const lines = [`recovery${r.set ? ` from set ${r.set}` : ''}${r.check ? ' (check mode: nothing changed)' : ''}`];
  if (r.stopped) lines.push(`STOPPED: ${r.stopped}`);
  if (r.sources?.length) {
    lines.push('', 'items and where they came from:');
    for (const s of r.sources) for (const item of s.items) lines.push(`  ${item} (${s.host}): ${s.kept ? 'kept as it is (the host holds its data; not restored)' : `set ${s.set} from ${whereFrom(s)}`}`);
  }
  lines.push('', 'phase       seconds');
  for (const t of r.timings) lines.push(`${t.phase.padEnd(11)} ${t.seconds.toFixed(1).padStart(7)}`);
  lines.push(`${'total'.padEnd(11)} ${r.totalSeconds.toFixed(1).padStart(7)}`);
  if (r.databases.length) {
    lines.push('', 'databases restored:');
    for (const d of r.databases) {
      const rows = Object.values(d.tables).reduce((a, b) => a + b, 0);
      lines.push(`  ${d.database}: ${Object.keys(d.tables).length} tables, ${rows} rows${Object.keys(d.tables).length ? ` (${Object.entries(d.tables).map(([t, n]) => `${t} ${n}`).join(', ')})` : ''}`);
    }
  }
  if (r.volumes.length) {
    lines.push('', 'volumes restored:');
    for (const v of r.volumes) lines.push(`  ${v.volume}: ${v.files} files`);
  }
  if (!r.check) {
    lines.push('', r.unhealthy.length ? `still unhealthy: ${r.unhealthy.map((u) => `${u.service} ${u.running}/${u.desired}${u.problem ? ` (${u.problem})` : ''}`).join(', ')}` : r.stopped ? 'health: not reached' : 'health: every service running and answering');
  }
  return lines.join('\n');
}
