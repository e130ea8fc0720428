import type { Inventory } from '../inventory/inventory.ts';
import type { EventBus, RunRecordRef } from '../model/events.ts';
import type { RunSummary } from '../runner/runner.ts';
import type { VarValue } from '../inventory/model.ts';
import type { Play } from '../model/play.ts';
import { InputError } from '../shell/errors.ts';
import { changesSince, describeChanges, fingerprints, holdsSecret, type RunArguments } from '../runs/fingerprints.ts';
import { KeyedDigest } from '../shell/keyed-digest.ts';
import { VaultError } from '../shell/vault.ts';
import { RECORD_FORMAT, RECORD_VERSION, RecordFormatError, type HostRecord, type RunRecord } from '../runs/record-format.ts';
import { RunRecorder } from '../runs/recorder.ts';
import { ResumePlanner } from '../runs/resume-planner.ts';
import { newRunId, RunStore } from '../runs/run-store.ts';
import { identitiesOf } from '../runs/task-identity.ts';

/** What a run records and resumes: both optional (a check run records nothing; only --resume resumes). */
export interface Recording {
  recorder?: RunRecorder;
  resume?: ResumePlanner;
  /** What changed since the resumed run, let through by --resume-anyway. */
  changed?: string;
}

export interface RecordingInput {
  /** undefined: no --resume; '': the last run of this playbook and inventory; else a run id. */
  resume: string | undefined;
  resumeAnyway: boolean;
  /** Check mode and --list-hosts change nothing: no record is written. */
  record: boolean;
  plays: Play[];
  /** The playbook as the run-start event names it (relative to the working directory). */
  playbook: string;
  entry: string | undefined;
  inventory: Inventory;
  inventoryFiles: string[];
  extraVars: Map<string, VarValue>;
  store?: RunStore;
  /** --tags, --skip-tags and the playbook's own arguments: a resume must be given the same. */
  arguments?: RunArguments;
  /** --limit, recorded for the reader; a resume may narrow it (it runs the resumed hosts the limit names). */
  limit?: string | undefined;
  /** group_vars/ and host_vars/ beside the playbook. */
  playbookDir?: string | undefined;
  /** The vault passphrase, asked only when a variable holds a Secret: it keys that Secret's digest. */
  vaultPassphrase?: () => string;
}

/**
 * Opens the record a --resume names (refusing, exit 4, when the playbook,
 * inventory or variables changed since, unless --resume-anyway) and starts
 * this run's own record, seeded with what the resumed hosts had done.
 */
export function prepareRecording(input: RecordingInput): Recording {
  // A run that neither records nor resumes (--check, --plan, --apply, --list-hosts) needs no fingerprints: the
  // scrypt key and the digests of every input are skipped.
  if (!input.record && input.resume === undefined) return {};
  const store = input.store ?? new RunStore();
  const plays = identitiesOf(input.plays);
  const earlier = input.resume !== undefined ? openEarlier(store, input) : undefined;
  const key = secretKey(input, earlier?.fingerprints.key);
  const now = fingerprints({ plays: input.plays, entry: input.entry, inventoryFiles: input.inventoryFiles, inventory: input.inventory, extraVars: input.extraVars, playbookDir: input.playbookDir, ...(input.arguments ? { arguments: input.arguments } : {}), key });
  const out: Recording = {};
  if (earlier) {
    const changes = changesSince(earlier.fingerprints, now);
    if (changes.length > 0) {
      const what = describeChanges(changes);
      if (!input.resumeAnyway) {
        throw new InputError('--resume', `${what} changed since run ${earlier.id}: resuming would not finish the same run; pass --resume-anyway to resume all the same, or run the playbook without --resume`);
      }
      out.changed = what;
    }
    out.resume = new ResumePlanner(earlier, plays, input.inventory.hosts);
    if (out.resume.hosts.length === 0) throw new InputError('--resume', `run ${earlier.id} finished on every host of this inventory: nothing to resume`);
  }
  if (input.record) {
    // Every host of the resumed run goes on in this record, with its status,
    // stop and results: a second --resume finds the hosts this one did not
    // run (--limit, a kill) where they stopped, and the results other hosts
    // read with resultOf. A host this run enters is running until it ends.
    const hosts: Record<string, HostRecord> = {};
    for (const [name, h] of Object.entries(out.resume?.record.hosts ?? {})) hosts[name] = { ...h, pendingHandlers: [...h.pendingHandlers], results: [...h.results] };
    const record: RunRecord = {
      format: RECORD_FORMAT,
      version: RECORD_VERSION,
      id: newRunId(),
      playbook: input.playbook,
      inventory: input.inventoryFiles,
      ...(input.limit !== undefined ? { limit: input.limit } : {}),
      startedAt: new Date().toISOString(),
      state: 'running',
      pid: process.pid,
      ...(out.resume ? { resumedFrom: out.resume.record.id } : {}),
      fingerprints: now,
      hosts,
    };
    out.recorder = new RunRecorder(store, record, plays);
  }
  return out;
}

/**
 * The key of the Secret values' digests: derived from the vault passphrase
 * with the resumed record's salt (so its digests compare), else a fresh
 * one; none when no variable holds a Secret or no passphrase is at hand.
 */
function secretKey(input: RecordingInput, params: KeyedDigest['params'] | undefined): KeyedDigest | undefined {
  if (!input.vaultPassphrase) return undefined;
  const vars = [...input.extraVars.values(), ...input.inventory.hostNames().flatMap((h) => [...input.inventory.varsFor(h).values()])];
  if (!vars.some((v) => holdsSecret(v.value))) return undefined;
  let passphrase: string;
  try {
    passphrase = input.vaultPassphrase();
  } catch (err) {
    if (err instanceof VaultError) return undefined;
    throw err;
  }
  return params ? KeyedDigest.from(params, passphrase) : KeyedDigest.create(passphrase);
}

function openEarlier(store: RunStore, input: RecordingInput): RunRecord {
  let found: RunRecord | undefined;
  try {
    found = input.resume ? store.read(input.resume) : store.last(input.playbook, input.inventoryFiles);
  } catch (err) {
    if (err instanceof RecordFormatError) throw new InputError('--resume', err.message);
    throw err;
  }
  if (!found) throw new InputError('--resume', `no recorded run of ${input.playbook} with inventory ${input.inventoryFiles.join(', ')} (records are in ${store.root})`);
  const pid = store.runningPid(found.id);
  if (pid !== undefined) throw new InputError('--resume', `run ${found.id} is still going (controller pid ${pid}): resume it once it has ended`);
  return found;
}

/**
 * Writes the record as the run goes: at a task's end where a host stopped,
 * else a quarter second after the last write at most, and at each play's
 * end, so a controller killed at any point leaves a record of what finished
 * (up to that quarter second);
 * `finish` writes the end and says where the record is, for the recap. A
 * record that cannot be written (a read-only directory) costs --resume, not
 * the run: one warning, and the run goes on.
 */
export function recordOnBus(recorder: RunRecorder | undefined, bus: EventBus, plays: string[][]): { finish(summary: RunSummary): RunRecordRef | undefined } {
  if (!recorder) return { finish: () => undefined };
  let unsaved = false;
  const attempt = (step: () => void) => {
    try {
      step();
    } catch (err) {
      if (unsaved) return;
      unsaved = true;
      bus.emit({ type: 'warning', message: `the run record cannot be written, --resume will not find this run: ${(err as Error).message}` });
    }
  };
  recorder.starting(plays);
  attempt(() => recorder.save());
  attempt(() => recorder.prune());
  // A write that is not due yet is made when it is (a long task after a quick one still shows the quick one done).
  let later: NodeJS.Timeout | undefined;
  const save = () => {
    clearTimeout(later);
    later = undefined;
    attempt(() => recorder.save());
  };
  bus.on((e) => {
    if (e.type === 'play-end') save();
    if (e.type !== 'task-end') return;
    const due = recorder.dueInMs();
    if (due === 0) save();
    else if (due !== Infinity && !later) later = setTimeout(save, due).unref();
  });
  return {
    finish(summary) {
      clearTimeout(later);
      recorder.finish(summary.counts, summary.interrupted);
      attempt(() => recorder.save(true));
      if (unsaved) return undefined;
      const unfinished = Object.entries(recorder.record.hosts)
        .filter(([, h]) => h.status !== 'ok')
        .map(([name]) => name);
      return { id: recorder.record.id, file: recorder.file, unfinished };
    },
  };
}
