import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostStatus, RunEvent } from '../model/events.ts';
import { InputError } from '../shell/errors.ts';
import { z } from '../shell/zod.ts';
import type { Digester, KeyParams } from './keyed-digest.ts';
import type { DecisionDigests } from './task-digests.ts';

/**
 * The plan file: JSON, versioned. A rigger reads exactly its own version;
 * an older or newer file is refused with what to do, never half-read (a
 * plan whose meaning a reader guesses is not the plan that was reviewed).
 */
export const PLAN_FORMAT = 'rigger-plan';
export const PLAN_VERSION = 1;

/** Digests of one input: the whole, and each part (a file, a variable) to name what differs. */
export interface DigestSet {
  digest: string;
  parts: Record<string, string>;
}

/** What the plan was made from: --apply refuses at once when any differs. */
export interface PlanInputs {
  /** The playbook file and every file that defines a task or play of it. */
  source: DigestSet;
  /** Every inventory file read, with the group_vars/ and host_vars/ files beside it and beside the playbook. */
  inventory: DigestSet;
  /** The -e extra variables, by name. */
  variables: DigestSet;
}

/** One task on one host, in the order the plan run reached it. */
export interface PlannedTask extends Partial<DecisionDigests> {
  /** Play number, task id and how many times this host ran it before: the same task at apply. */
  key: string;
  play: string;
  task: string;
  /** As reported (check mode): ok, changed, skipped, failed. */
  status: HostStatus;
  msg?: string;
  /** A planned change on this host came before: its probe was read before that change was made. */
  afterChange?: true;
  /** Index of its task-host event in `events` (the diff `plan show` prints). */
  event: number;
}

export interface PlanOptions {
  limit?: string;
  tags: string[];
  skipTags: string[];
  allOrNothing: boolean;
}

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  id: string;
  createdAt: string;
  playbook: string;
  options: PlanOptions;
  /** What the temp file names of the planned writes are keyed from (command-key.ts): the same commands at apply. */
  commandNonce: string;
  /** How the digests are keyed; null: plain SHA-256 (no vault passphrase at plan time). */
  key: KeyParams | null;
  inputs: PlanInputs;
  hosts: Record<string, PlannedTask[]>;
  /** The plan run's events (redacted by the bus as for any renderer): what `plan show` prints. */
  events: RunEvent[];
  /** With a passphrase: an HMAC of everything above (sealPlan), so what `plan show` prints and what --apply judges are the plan that was made. */
  mac?: string;
}

const digestSet = z.object({ digest: z.string(), parts: z.record(z.string(), z.string()) });
const planSchema = z.object({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  id: z.string().regex(/^[0-9a-f]{16,64}$/),
  createdAt: z.string(),
  playbook: z.string(),
  commandNonce: z.string().regex(/^[0-9a-f]{32}$/),
  options: z.object({ limit: z.string().optional(), tags: z.array(z.string()), skipTags: z.array(z.string()), allOrNothing: z.boolean() }),
  key: z
    .object({ kdf: z.literal('scrypt'), salt: z.string(), N: z.number().int().min(2), r: z.number().int().min(1), p: z.number().int().min(1), check: z.string() })
    .nullable(),
  inputs: z.object({ source: digestSet, inventory: digestSet, variables: digestSet }),
  hosts: z.record(
    z.string(),
    z.array(
      z
        .object({
          key: z.string(),
          play: z.string(),
          task: z.string(),
          status: z.enum(['ok', 'changed', 'failed', 'skipped', 'unreachable']),
          event: z.number().int().min(0),
        })
        .passthrough(),
    ),
  ),
  events: z.array(z.object({ type: z.string() }).passthrough()),
  mac: z.string().optional(),
});

/** Reads a plan file; an unreadable, foreign, older or newer one is an InputError naming the file. */
export function parsePlan(text: string, file: string): PlanFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `not a plan file: ${(err as Error).message}`);
  }
  const head = (typeof data === 'object' && data !== null ? data : {}) as { format?: unknown; version?: unknown };
  if (head.format !== PLAN_FORMAT) throw new InputError(file, `not a rigger plan file (no "format": "${PLAN_FORMAT}")`);
  if (typeof head.version !== 'number') throw new InputError(file, 'the plan file has no format version');
  if (head.version < PLAN_VERSION) {
    throw new InputError(file, `the plan file is format version ${head.version}, older than the version ${PLAN_VERSION} this rigger reads: make the plan again with this rigger`);
  }
  if (head.version > PLAN_VERSION) {
    throw new InputError(file, `the plan file is format version ${head.version}, newer than the version ${PLAN_VERSION} this rigger reads: apply it with the rigger that made it, or make the plan again`);
  }
  const parsed = planSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, `the plan file is damaged: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data as unknown as PlanFile;
}

export function readPlan(file: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read the plan file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePlan(text, file);
}

/**
 * Owner-only (a plan holds diffs of the hosts' files), and whole: written
 * to a temp file beside it (created 0600) and renamed over it, so a reader
 * (an --apply started meanwhile, a review) never sees half a plan, and a
 * failed write leaves the old plan and no temp file.
 */
export function writePlan(file: string, plan: PlanFile): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, JSON.stringify(plan, null, 1) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** What the seal covers: the whole plan as JSON reads it back, keys sorted, without the seal. */
function sealed(plan: PlanFile, digester: Digester): string {
  const { mac: _mac, ...rest } = JSON.parse(JSON.stringify(plan)) as PlanFile;
  return digester.digest('plan file', JSON.stringify(digester.canonical(rest)));
}

/**
 * With a passphrase, the plan is sealed by an HMAC under its key: its
 * events (what `plan show` prints and a reviewer approves) and its
 * decisions' digests (what --apply judges by) cannot be edited apart, nor
 * either of them at all, without the passphrase. A plain plan has no seal:
 * a hash anyone can recompute would bind nothing.
 */
export function sealPlan(plan: PlanFile, digester: Digester): PlanFile {
  if (!digester.keyed) return plan;
  return { ...plan, mac: sealed(plan, digester) };
}

/** --apply of a keyed plan: refuses one whose seal does not match (an InputError naming the file). */
export function checkPlanSeal(plan: PlanFile, digester: Digester, file: string): void {
  if (!digester.keyed) return;
  if (plan.mac === undefined) throw new InputError(file, 'the plan has no seal although its digests are keyed: it was altered after it was written; make the plan again');
  const want = Buffer.from(sealed(plan, digester));
  const got = Buffer.from(plan.mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new InputError(file, 'the plan was altered after it was written (its seal does not match): make the plan again');
}
