/**
 * --profile: where a run's wall time goes, per play and per host.
 *
 * Each host's time in a play is split into parts that add up to the play's
 * wall time: connecting, probe round trips, change round trips, waits on
 * other software (the Docker engine, apt, health checks and retry delays:
 * whole change phases of the ops that wait on them, controller sleeps
 * included), and the rest (the controller deciding, and the host idle while
 * other hosts or forks run). Beside the split, not part of it: round trip
 * counts, an estimate of remote execution time, and the controller's CPU.
 */

export type ExecPhase = 'probe' | 'change';
export type WaitKind = 'docker' | 'apt' | 'health' | 'retry';
export const WAIT_KINDS: readonly WaitKind[] = ['docker', 'apt', 'health', 'retry'];

export interface HostProfile {
  connectMs: number;
  probes: { count: number; ms: number };
  changes: { count: number; ms: number };
  waits: Record<WaitKind, number>;
  /** The play's wall time not in the parts above: controller work and idle time. */
  otherMs: number;
  /**
   * Remote execution, estimated: each round trip's time beyond the host's
   * fastest round trip of the run (which is mostly network and channel cost).
   */
  remoteMs: number;
}

export interface PlayProfile {
  play: string;
  wallMs: number;
  /** The controller process's CPU time (user + system) during the play, all hosts together. */
  cpuMs: number;
  hosts: Record<string, HostProfile>;
}

export interface RunProfile {
  wallMs: number;
  cpuMs: number;
  plays: PlayProfile[];
  /** Per host, summed over plays. */
  hosts: Record<string, HostProfile>;
}

/**
 * The op kinds whose change phase is spent waiting on other software: what
 * the Docker engine, apt and health checks take is theirs, not rigger's.
 */
export function waitKindOf(opKind: string): WaitKind | undefined {
  if (opKind.startsWith('apt.')) return 'apt';
  if (opKind === 'docker.health') return 'health';
  if (opKind.startsWith('docker.') || opKind.startsWith('compose.') || opKind.startsWith('podman.')) return 'docker';
  return undefined;
}

/** An op's wait: its own declaration (ops.each passes its members' on), else its kind's. */
export function opWaitKind(op: { kind: string; waitKind?: WaitKind | undefined }): WaitKind | undefined {
  return op.waitKind ?? waitKindOf(op.kind);
}

function emptyHost(): HostProfile {
  return { connectMs: 0, probes: { count: 0, ms: 0 }, changes: { count: 0, ms: 0 }, waits: { docker: 0, apt: 0, health: 0, retry: 0 }, otherMs: 0, remoteMs: 0 };
}

interface OpenPlay {
  play: string;
  started: number;
  cpu: NodeJS.CpuUsage;
  hosts: Map<string, HostProfile>;
  /** Per host, the play's round trips: the remote estimate needs the run's fastest. */
  trips: Map<string, Trips>;
}

/** Enough of a host's round trips for the remote estimate: sum - count x the run's fastest. */
interface Trips {
  count: number;
  sum: number;
  min: number;
}

export class Profiler {
  readonly #started = performance.now();
  readonly #cpu = process.cpuUsage();
  readonly #plays: { profile: PlayProfile; trips: Map<string, Trips> }[] = [];
  #open: OpenPlay | undefined;
  readonly #connected = new Set<string>();

  startPlay(play: string, hosts: string[]): void {
    this.#open = { play, started: performance.now(), cpu: process.cpuUsage(), hosts: new Map(hosts.map((h) => [h, emptyHost()])), trips: new Map() };
  }

  endPlay(): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    const wallMs = performance.now() - open.started;
    const cpu = process.cpuUsage(open.cpu);
    for (const h of open.hosts.values()) h.otherMs = Math.max(0, wallMs - accounted(h));
    this.#plays.push({ profile: { play: open.play, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, hosts: Object.fromEntries(open.hosts) }, trips: open.trips });
  }

  #host(host: string): HostProfile | undefined {
    const open = this.#open;
    if (!open) return undefined;
    let h = open.hosts.get(host);
    if (!h) open.hosts.set(host, (h = emptyHost()));
    return h;
  }

  /** The connection's set-up time, counted once, in the play that first used it. */
  connected(host: string, ms: number): void {
    if (this.#connected.has(host)) return;
    const h = this.#host(host);
    if (!h) return;
    this.#connected.add(host);
    h.connectMs += ms;
  }

  /** One round trip. Inside a waiting op's change phase its time is the wait's, counted by waited(). */
  roundTrip(host: string, phase: ExecPhase, ms: number, insideWait: boolean): void {
    const h = this.#host(host);
    if (!h) return;
    const part = phase === 'probe' ? h.probes : h.changes;
    part.count++;
    if (!insideWait) part.ms += ms;
    const trips = this.#open!.trips;
    const t = trips.get(host) ?? { count: 0, sum: 0, min: Infinity };
    trips.set(host, { count: t.count + 1, sum: t.sum + ms, min: Math.min(t.min, ms) });
  }

  waited(host: string, kind: WaitKind, ms: number): void {
    const h = this.#host(host);
    if (h) h.waits[kind] += ms;
  }

  result(): RunProfile {
    this.endPlay();
    const fastest = new Map<string, number>();
    for (const p of this.#plays) for (const [host, t] of p.trips) fastest.set(host, Math.min(fastest.get(host) ?? Infinity, t.min));
    const hosts: Record<string, HostProfile> = {};
    for (const p of this.#plays) {
      for (const [host, t] of p.trips) p.profile.hosts[host]!.remoteMs = t.sum - t.count * (fastest.get(host) ?? 0);
      for (const [host, h] of Object.entries(p.profile.hosts)) add((hosts[host] ??= emptyHost()), h);
    }
    const cpu = process.cpuUsage(this.#cpu);
    return { wallMs: performance.now() - this.#started, cpuMs: (cpu.user + cpu.system) / 1000, plays: this.#plays.map((p) => p.profile), hosts };
  }
}

function accounted(h: HostProfile): number {
  return h.connectMs + h.probes.ms + h.changes.ms + WAIT_KINDS.reduce((sum, k) => sum + h.waits[k], 0);
}

function add(into: HostProfile, h: HostProfile): void {
  into.connectMs += h.connectMs;
  into.probes.count += h.probes.count;
  into.probes.ms += h.probes.ms;
  into.changes.count += h.changes.count;
  into.changes.ms += h.changes.ms;
  for (const k of WAIT_KINDS) into.waits[k] += h.waits[k];
  into.otherMs += h.otherMs;
  into.remoteMs += h.remoteMs;
}
