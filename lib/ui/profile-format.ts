import type { ChalkInstance } from 'chalk';
import { WAIT_KINDS, type HostProfile, type RunProfile } from '../model/profile.ts';
import { ms } from './style.ts';

const HEAD = ['connect', 'probes', 'changes', ...WAIT_KINDS, 'rest', 'remote≈'];
const WIDTH = 12;

function cells(h: HostProfile): string[] {
  const trips = (t: { count: number; ms: number }) => (t.count === 0 ? '-' : `${t.count}× ${ms(t.ms)}`);
  const time = (n: number) => (n < 0.5 ? '-' : ms(n));
  return [time(h.connectMs), trips(h.probes), trips(h.changes), ...WAIT_KINDS.map((k) => time(h.waits[k])), time(h.otherMs), time(h.remoteMs)];
}

function rows(hosts: Record<string, HostProfile>, width: number): string[] {
  return Object.entries(hosts).map(([host, h]) => `  ${host.padEnd(width)} ${cells(h).map((c) => c.padEnd(WIDTH)).join('')}`.trimEnd());
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)} %` : '-';
}

/**
 * Where the time went: the rigger part (connecting, round trips, the rest)
 * against the waits on other software, over every host and play. This is
 * the line that answers "is it rigger or is it apt and Docker".
 */
export function profileSummary(p: RunProfile): string {
  const all = Object.values(p.hosts);
  const sum = (f: (h: HostProfile) => number) => all.reduce((s, h) => s + f(h), 0);
  const own = sum((h) => h.connectMs + h.probes.ms + h.changes.ms);
  const rest = sum((h) => h.otherMs);
  const waits = WAIT_KINDS.map((k) => [k, sum((h) => h.waits[k])] as const);
  const whole = own + rest + waits.reduce((s, [, v]) => s + v, 0);
  const parts = [`rigger's round trips and connections ${ms(own)} (${pct(own, whole)})`, ...waits.filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${ms(v)} (${pct(v, whole)})`), `controller and idle ${ms(rest)} (${pct(rest, whole)})`];
  return `host time, all hosts summed: ${parts.join(', ')}`;
}

/** The --profile table printed after the recap: per play and host, then per host over the run. */
export function formatProfile(p: RunProfile, c: ChalkInstance): string[] {
  const hostNames = Object.keys(p.hosts);
  const width = Math.max(4, ...hostNames.map((h) => h.length));
  const head = `  ${''.padEnd(width)} ${HEAD.map((h) => h.padEnd(WIDTH)).join('')}`.trimEnd();
  const lines = [c.bold(`PROFILE (wall ${ms(p.wallMs)}, controller CPU ${ms(p.cpuMs)})`), c.dim(head)];
  for (const play of p.plays) {
    lines.push(`PLAY [${play.play}] ${ms(play.wallMs)}, controller CPU ${ms(play.cpuMs)}`);
    lines.push(...rows(play.hosts, width));
  }
  if (p.plays.length > 1) {
    lines.push('ALL PLAYS');
    lines.push(...rows(p.hosts, width));
  }
  lines.push(profileSummary(p));
  lines.push(c.dim('rest = controller work and time the host waited for others; remote≈ = round trips beyond the host\'s fastest one'));
  return lines;
}
