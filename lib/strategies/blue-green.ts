import { sh, type Command } from '../shell/command.ts';
import { defineOp, OpFailure, type Decision, type Op, type Remote } from '../model/op.ts';
import { Secret } from '../shell/secret.ts';
import { z } from '../shell/zod.ts';
import { notifyWebhook } from '../ops/webhook.ts';
import { runOp } from '../ops/each.ts';

export type SlotName = 'blue' | 'green';

/** The typed health gate: one GET, its status, its latency bound, and what its body must contain. */
export const healthGateSchema = z
  .object({
    /** Where the new slot answers on the host, e.g. http://127.0.0.1:{port}/api/health ({port} is the slot's). */
    url: z.string().regex(/^https?:\/\/[^\s'"]+$/, 'an http(s) URL'),
    status: z.number().int().min(100).max(599).default(200),
    /** The answer must come within this bound (the whole request, as curl times it). */
    maxLatencyMs: z.number().int().min(1).default(500),
    /** Text the body must contain (e.g. "database":"ok"). */
    bodyContains: z.string().optional(),
    /** Wait before the first check: the new version's start-up. */
    delaySeconds: z.number().min(0).default(10),
    /** Checks after the first one fails, and the pause between them. */
    retries: z.number().int().min(0).default(3),
    intervalSeconds: z.number().min(0).default(2),
  })
  .strict();

export type HealthGate = z.output<typeof healthGateSchema>;

export interface BlueGreenOptions {
  /** The application's name: its state file and the stop timers are named after it. */
  name: string;
  /** What this release runs (an image reference): the same release again changes nothing. */
  version: string;
  slots: Record<SlotName, { port: number }>;
  /** The op that starts (or updates) a slot with this release, e.g. a Quadlet unit. */
  start: (slot: SlotName, port: number) => Op<unknown, any>;
  /** The command that stops a slot, now or later (it runs from a systemd timer). */
  stop: (slot: SlotName) => string[];
  health: z.input<typeof healthGateSchema>;
  /** The op that points the proxy at a slot, e.g. ops.caddy.site with its port as upstream. */
  switch: (slot: SlotName, port: number) => Op<unknown, any>;
  /** Seconds the old slot keeps running after the switch: an instant rollback until then. */
  keepOldFor: number;
  /** A webhook told about a rollback (a Secret: it usually carries a token). */
  notify?: Secret | undefined;
}

export const STATE_DIR = '/var/lib/rigger/blue-green';

export interface BlueGreenState {
  live?: SlotName;
  version?: string;
}

export interface BlueGreenResult {
  live: SlotName;
  previous?: SlotName;
  version: string;
  health: { status: number; ms: number };
}

const other = (s: SlotName): SlotName => (s === 'blue' ? 'green' : 'blue');
const timerOf = (name: string, slot: SlotName) => `rigger-bluegreen-${name}-stop-${slot}`;
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** One health reading: status, milliseconds and whether the body holds the text. */
export function gateCommand(url: string, maxLatencyMs: number): Command {
  // Bounded a little above the latency bound, so a hung app fails the gate instead of hanging it.
  const timeout = Math.max(1, Math.ceil(maxLatencyMs / 1000) + 1);
  return sh`b=$(mktemp); w=$(curl -s -o "$b" -w '%{http_code} %{time_total}' --max-time ${String(timeout)} ${url}); echo "$w"; cat "$b"; rm -f "$b"`;
}

export function judge(out: string, g: HealthGate): { ok: boolean; status: number; ms: number; why?: string } {
  const [head = '', ...rest] = out.split('\n');
  const [code = '0', secs = '0'] = head.trim().split(/\s+/);
  const status = Number(code);
  const ms = Math.round(Number(secs) * 1000);
  const body = rest.join('\n');
  const why =
    status !== g.status ? `status ${status || 'none (no answer)'}, expected ${g.status}` : ms > g.maxLatencyMs ? `answered in ${ms} ms, over the ${g.maxLatencyMs} ms bound` : g.bodyContains && !body.includes(g.bodyContains) ? `body lacks ${JSON.stringify(g.bodyContains)}` : undefined;
  return { ok: why === undefined, status, ms, ...(why ? { why } : {}) };
}

function planOf(o: BlueGreenOptions, g: HealthGate, live: SlotName | undefined, target: SlotName): string[] {
  const port = o.slots[target].port;
  return [
    `start ${target} (${o.version}) on ${port}`,
    `wait ${g.delaySeconds} s, then GET ${g.url.replace('{port}', String(port))}: ${g.status} within ${g.maxLatencyMs} ms${g.bodyContains ? `, body with ${JSON.stringify(g.bodyContains)}` : ''} (${g.retries + 1} tries)`,
    `switch the proxy to ${target} (:${port})`,
    live ? `stop ${live} in ${o.keepOldFor} s (rollback instant until then)` : 'no previous slot to stop',
    `on failure: stop ${target}, ${live ? `${live} keeps serving` : 'nothing was serving'}${o.notify ? ', notify the webhook' : ''}`,
  ];
}

async function gate(remote: Remote, g: HealthGate, port: number): Promise<ReturnType<typeof judge>> {
  await sleep(g.delaySeconds);
  let last = judge('', g);
  for (let i = 0; i <= g.retries; i++) {
    if (i > 0) await sleep(g.intervalSeconds);
    last = judge((await remote.run(gateCommand(g.url.replace('{port}', String(port)), g.maxLatencyMs))).stdout.toString('utf8'), g);
    if (last.ok) return last;
  }
  return last;
}

async function release(remote: Remote, o: BlueGreenOptions, g: HealthGate, live: SlotName | undefined, target: SlotName): Promise<BlueGreenResult> {
  const port = o.slots[target].port;
  // A stop scheduled for this slot by an earlier release must not hit the new version.
  await remote.run(sh`systemctl stop ${`${timerOf(o.name, target)}.timer`} 2>/dev/null; true`);
  await runOp(remote, o.start(target, port));
  const health = await gate(remote, g, port);
  if (!health.ok) {
    await remote.run(sh`${o.stop(target)}`);
    const text = `${o.name}: release ${o.version} rolled back: ${target} failed its health check (${health.why}); ${live ?? 'nothing'} keeps serving`;
    // The rollback stands whether or not the webhook answers: its failure is added to the message, not raised instead.
    const told = o.notify
      ? await runOp(remote, notifyWebhook({ url: o.notify, payload: { text, app: o.name, version: o.version, outcome: 'rolled back', reason: health.why } })).then(
          () => '',
          (e: Error) => ` (the webhook failed: ${e.message})`,
        )
      : '';
    throw new OpFailure(text + told);
  }
  await runOp(remote, o.switch(target, port));
  const state = JSON.stringify({ app: o.name, live: target, version: o.version, at: new Date().toISOString() });
  await remote.check(sh`mkdir -p ${STATE_DIR} && printf '%s\n' ${state} > ${`${STATE_DIR}/${o.name}.json`}`);
  if (live) {
    const unit = timerOf(o.name, live);
    await remote.check(sh`systemctl stop ${`${unit}.timer`} 2>/dev/null; systemctl reset-failed ${`${unit}.service`} 2>/dev/null; systemd-run --quiet --unit ${unit} --on-active ${`${o.keepOldFor}s`} --timer-property AccuracySec=1s ${o.stop(live)}`);
  }
  return { live: target, ...(live ? { previous: live } : {}), version: o.version, health: { status: health.status, ms: health.ms } };
}

/**
 * A blue-green release as one op, usable from any playbook: the new version
 * starts on the idle slot, a typed health gate (status, latency bound, body)
 * decides, the proxy switches only after it passed, the old slot's stop is
 * scheduled on the host (a systemd timer: the rollback stays instant until
 * it fires), and a failed gate stops the new slot, leaves the live one
 * serving, notifies, and fails. The same version again is ok; --check
 * prints the plan.
 */
export function blueGreen(o: BlueGreenOptions): Op<BlueGreenResult, BlueGreenState> {
  const g = healthGateSchema.parse(o.health);
  const stateFile = `${STATE_DIR}/${o.name}.json`;
  return defineOp({
    kind: 'strategy.blue-green',
    schema: z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -'), version: z.string().min(1) }).strict(),
    describe: (p) => `${p.name} -> ${p.version}`,
    probe: () => ({
      command: sh`cat ${stateFile} 2>/dev/null || true`,
      parse: (r) => {
        const text = r.stdout.toString('utf8').trim();
        return text ? (JSON.parse(text) as BlueGreenState) : {};
      },
    }),
    decide: (_p, s: BlueGreenState): Decision<BlueGreenResult> => {
      if (s.live && s.version === o.version) return { kind: 'ok', result: { live: s.live, version: o.version, health: { status: 0, ms: 0 } }, msg: `${o.version} is live on ${s.live}` };
      const target = s.live ? other(s.live) : 'blue';
      const plan = planOf(o, g, s.live, target);
      return {
        kind: 'change',
        msg: `release ${o.version} on ${target}: ${plan.slice(0, 4).join('; ')}`,
        diff: { kind: 'summary', lines: plan.map((l, i) => `${i + 1}. ${l}`) },
        apply: (remote) => release(remote, o, g, s.live, target),
        checkResult: { live: target, ...(s.live ? { previous: s.live } : {}), version: o.version, health: { status: 0, ms: 0 } },
      };
    },
  })({ name: o.name, version: o.version });
}
