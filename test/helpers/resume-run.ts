// Runs a playbook on local hosts as `rigger PLAYBOOK [--resume]` does
// (record, resume planner, the real runner), for the tests of .rigger/runs/.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { EventBus, type RunEvent } from '../../lib/model/events.ts';
import type { Play } from '../../lib/model/play.ts';
import { task } from '../../lib/model/task.ts';
import * as ops from '../../lib/public-ops.ts';
import { Runner } from '../../lib/runner/runner.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { transportFor } from '../../lib/cli/connection.ts';
import { prepareRecording, recordOnBus } from '../../lib/cli/run-record.ts';
import { RunStore } from '../../lib/runs/run-store.ts';

export interface RunOptions {
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  flags?: Record<string, string | boolean | undefined>;
  resumeAnyway?: boolean;
  /** The controller is killed after the run: no end is written, only what a write during the run left. */
  killed?: boolean;
  /** The controller is killed after the record's first write, before any task ran. */
  killedAtStart?: boolean;
}

export interface RunOutcome {
  events: RunEvent[];
  code: number;
  id: string | undefined;
  /** `host task status` of each task-host event, in order. */
  ran: string[];
}

export async function runOnce(inventoryFile: string, list: Play[], store: RunStore, resume: string | undefined, o: RunOptions = {}): Promise<RunOutcome> {
  const inventory = await loadInventories([inventoryFile], { vaultPassphrase: () => 'test' });
  const tags = o.tags ?? [];
  const skipTags = o.skipTags ?? [];
  const recording = prepareRecording({
    resume,
    resumeAnyway: o.resumeAnyway ?? false,
    record: true,
    plays: list,
    playbook: 'pb.ts',
    entry: undefined,
    inventory,
    inventoryFiles: [inventoryFile],
    extraVars: new Map(),
    store,
    arguments: { tags, skipTags, positionals: [], flags: o.flags ?? {} },
    limit: o.limit,
    vaultPassphrase: () => 'test',
  });
  const bus = new EventBus();
  const events: RunEvent[] = [];
  bus.on((e) => events.push(e));
  const runner = new Runner({
    inventory,
    check: false,
    diff: false,
    tags,
    skipTags,
    extraVars: new Map(),
    forks: 5,
    verbosity: 0,
    bus,
    ...(o.limit ? { limit: o.limit } : {}),
    transportFor: (host, vars) => transportFor(host, vars, { hostKeyMode: 'strict' }),
    ...(recording.recorder ? { progress: recording.recorder } : {}),
    ...(recording.resume ? { resume: recording.resume } : {}),
  });
  const planned = runner.plan(list);
  const recorded = recordOnBus(recording.recorder, bus, planned.map((p) => p.hosts));
  if (o.killedAtStart) return killed(store, recording.recorder?.record.id, { events, code: 137, ran: [] });
  const summary = await runner.run(planned);
  // A killed controller leaves what the last write during the run held: the write the timer would make next.
  const ran = events.flatMap((e) => (e.type === 'task-host' ? [`${e.host} ${e.task} ${e.status}`] : []));
  if (o.killed) {
    recording.recorder?.save();
    return killed(store, recording.recorder?.record.id, { events, code: 137, ran });
  }
  recorded.finish(summary);
  return { events, code: summary.exitCode, id: recording.recorder?.record.id, ran };
}

/** A killed controller's record names a process that is gone: the pid of one that has exited. */
function killed(store: RunStore, id: string | undefined, out: Omit<RunOutcome, 'id'>): RunOutcome {
  if (id) store.write({ ...store.read(id), pid: spawnSync('true').pid! });
  return { ...out, id };
}

/** A scratch directory with an inventory of local hosts and a run store in it. */
export function localHosts(hosts: string[]): { dir: string; inventoryFile: string; store: RunStore } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-resume-'));
  const inventoryFile = path.join(dir, 'hosts.yml');
  writeFileSync(inventoryFile, `all:\n  vars:\n    ansible_connection: local\n  hosts:\n${hosts.map((h) => `    ${h}:\n`).join('')}`);
  return { dir, inventoryFile, store: new RunStore(path.join(dir, 'runs')) };
}

/** A shell task: its script from the host. */
export function sh(name: string, script: (h: { name: string }) => string) {
  return task({ name, op: (h) => ops.shell({ script: script(h) }) });
}
