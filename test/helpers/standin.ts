// Runs the real scripts/lab/standin.py with a stand-in's spec (scripts/lab/standins.ts) on loopback, as
// the lab's image runs it: python3, the spec in STANDIN, the stack's environment and command line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { interpolate, parseCompose } from '../../lib/ops/docker/compose.ts';
import { realStacks } from '../../scripts/lab/rehearsal.ts';
import type { StandInSpec } from '../../scripts/lab/standins.ts';

const SCRIPT = path.resolve('scripts/lab/standin.py');

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface RunningStandIn {
  /** Resolves once stdout has a line matching; rejects if the stand-in exits first. */
  printed: (re: RegExp) => Promise<void>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop: () => void;
  /** Its stdout so far. */
  output: () => string;
}

/** Starts standin.py with `spec` and only the environment given (the test's own must not lend it settings). */
export function startStandIn(spec: StandInSpec, args: string[], env: Record<string, string>): RunningStandIn {
  const child = spawn('python3', [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', STANDIN: JSON.stringify(spec), ...env } });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    for (const w of waiters.filter((x) => x.re.test(stdout))) w.resolve();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const printed = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (re.test(stdout)) return resolve();
      waiters.push({ re, resolve });
      void exit.then(({ code }) => reject(new Error(`stand-in exited ${code} before printing ${re}:\n${stdout}\n${stderr}`)));
    });
  return { printed, exit, stop: () => child.kill('SIGKILL'), output: () => stdout };
}

/**
 * How a stand-in expected to refuse ends: its exit, or a failure as soon as it starts serving instead
 * (so a stand-in that lost its strictness fails the test rather than running on).
 */
export function refusal(s: RunningStandIn): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return Promise.race([
    s.exit,
    s.printed(/listening on|daemon: runner: /).then(() => {
      s.stop();
      throw new Error(`the stand-in started instead of refusing:\n${s.output()}`);
    }),
  ]);
}

/** A spec listening on one free loopback port instead of its real ones (and no raw TCP banners: 22 needs root). */
export async function onFreePort(spec: StandInSpec): Promise<{ spec: StandInSpec; port: number }> {
  const port = await freePort();
  return { spec: { ...spec, http: { ...spec.http!, ports: [port] }, tcp: {} }, port };
}

/** A service of the real stacks (homelab.yml's and the monitoring role's), rendered with homelab.yml's values as the roles render it. */
export function stackService(stack: string, service: string) {
  const s = realStacks().find((x) => x.name === stack);
  assert.ok(s, `homelab.yml has a stack ${stack}`);
  const { compose, problems } = parseCompose(interpolate(readFileSync(s.file, 'utf8'), { ...s.env, ENDPOINT_MODE: 'vip', PUBLISH_MODE: 'ingress' }).text);
  assert.ok(compose?.services[service], `${s.file} ${service}: ${JSON.stringify(problems)}`);
  return compose.services[service];
}

/** A service's environment in the real stack file, rendered with homelab.yml's values. */
export function stackEnvironment(stack: string, service: string): Record<string, string> {
  const environment = stackService(stack, service).environment ?? {};
  assert.ok(!Array.isArray(environment), `${stack} ${service}: environment as a map`);
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v ?? '')]));
}
