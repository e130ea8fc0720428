import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, OpFailure, type Decision, type Remote } from '../../model/op.ts';
import { Secret } from '../../shell/secret.ts';
import { putFiles } from '../files/put-files.ts';
import { affectedServices, changedKeys } from './affected.ts';
import { envKeyProblem, maskEnvDiff, renderEnv, type EnvValue } from './env-file.ts';
import { composeProbe, parseComposeState, staleServices, type ComposeContainer, type ComposeState } from './state.ts';

const envValue = z.union([z.string(), z.number(), z.boolean(), z.instanceof(Secret)]);
const envMap = z.record(z.string(), envValue).superRefine((m, ctx) => {
  for (const k of Object.keys(m)) {
    const problem = envKeyProblem(k);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [k] });
  }
});
const REL_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;
/** A map keyed by paths inside the project directory; a bad key is named in the problem (zod's own says only "Invalid key"). */
function byRelPath<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).superRefine((m, ctx) => {
    for (const k of Object.keys(m)) if (!REL_PATH.test(k)) ctx.addIssue({ code: 'custom', message: `${k}: a path inside the project directory (no leading / and no ..)`, path: [k] });
  });
}

const schema = z
  .object({
    /** The project's directory on the host; Compose reads compose.yml and .env from it. */
    dir: z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path'),
    /** The Compose project name (container names, labels). */
    project: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -'),
    /** compose.yml and the files it mounts (nginx configuration, certificates), relative to dir. */
    files: byRelPath(z.union([z.string(), z.instanceof(Secret)])),
    /** The values Compose substitutes for ${VAR} (dir/.env), written 0600. */
    env: envMap.default({}),
    /** Env files the containers read (env_file:), relative to dir, written 0600. */
    envFiles: byRelPath(envMap).default({}),
    /** How long to wait for every service to be running and, where it has a health check, healthy. */
    waitSeconds: z.number().int().min(1).default(180),
  })
  .strict()
  .refine((p) => 'compose.yml' in p.files, { message: 'files must include compose.yml', path: ['files'] });

type Params = z.output<typeof schema>;

interface Desired {
  path: string;
  data: Buffer | Secret;
  sha256: string;
  mode: string;
  /** What --diff shows of it: text, or text with secret values masked, or nothing. */
  shown?: (before: string | undefined) => { before: string; after: string } | undefined;
}

export interface ProjectResult {
  dir: string;
  /** Services whose container was created or recreated. */
  recreated: string[];
  services: string[];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function desiredFiles(p: Params): Desired[] {
  const out: Desired[] = [];
  for (const [path, content] of Object.entries(p.files)) {
    const bytes = Buffer.from(content instanceof Secret ? content.reveal() : content, 'utf8');
    const shown = content instanceof Secret ? undefined : (before: string | undefined) => ({ before: before ?? '', after: content });
    out.push({ path, data: content instanceof Secret ? content : bytes, sha256: sha(bytes), mode: content instanceof Secret ? '0600' : '0644', ...(shown ? { shown } : {}) });
  }
  const envs: [string, Record<string, EnvValue>][] = [['.env', p.env], ...Object.entries(p.envFiles)];
  for (const [path, values] of envs) {
    const { text, secret } = renderEnv(values);
    out.push({
      path,
      data: secret ? Secret.unlisted(text) : Buffer.from(text),
      sha256: sha(Buffer.from(text)),
      mode: '0600',
      shown: (before) => maskEnvDiff(before ?? '', text, values),
    });
  }
  return out;
}

/** Env files are read back (quietly) only to show a masked diff; other secret files never. */
const readable = (d: Desired) => d.shown !== undefined;

/** The project's changed files, all in one call of the file writer: one round trip, and none written unless all can be. */
function writeAll(p: Params, files: Desired[]): Command {
  return putFiles(files.map((d) => ({ path: posix.join(p.dir, d.path), data: d.data, sha256: d.sha256, mode: d.mode, owner: 'root:root', makeParents: true })));
}

async function containers(remote: Remote, p: Params): Promise<ComposeContainer[]> {
  const r = await remote.check(sh`cd ${p.dir} && docker compose -p ${p.project} ps -a --format json`.quietly());
  return parseComposeState(`@@hash\n@@ps\n${r.stdout.toString('utf8')}`).containers;
}

/** Every service has a running container, healthy where the image has a health check; fails fast on an exited one. */
async function waitHealthy(remote: Remote, p: Params, services: string[]): Promise<ComposeContainer[]> {
  const deadline = Date.now() + p.waitSeconds * 1000;
  for (;;) {
    const cs = await containers(remote, p);
    const waiting = services.filter((svc) => {
      const mine = cs.filter((c) => c.service === svc);
      return mine.length === 0 || mine.some((c) => c.state !== 'running' || (c.health !== '' && c.health !== 'healthy'));
    });
    if (waiting.length === 0) return cs;
    const dead = cs.filter((c) => c.state === 'exited' || c.state === 'dead' || c.health === 'unhealthy');
    if (dead.length > 0 || Date.now() > deadline) {
      const why = (dead.length ? dead : cs.filter((c) => waiting.includes(c.service))).map((c) => `${c.service} ${c.state}${c.health ? ` (${c.health})` : ''}`);
      throw new OpFailure(`${p.project}: not every service is running and healthy${dead.length ? '' : ` after ${p.waitSeconds} s`}: ${why.join(', ') || waiting.join(', ')} (docker compose -p ${p.project} logs)`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function converge(p: Params, s: ComposeState, differ: Desired[], remote: Remote): Promise<ProjectResult> {
  if (differ.length) await remote.check(writeAll(p, differ));
  const before = new Map(s.containers.map((c) => [c.service, c.id]));
  await remote.check(sh`cd ${p.dir} && docker compose -p ${p.project} pull --quiet --ignore-buildable 2>&1`);
  await remote.check(sh`cd ${p.dir} && docker compose -p ${p.project} up -d --remove-orphans --quiet-pull 2>&1`);
  const services = (await remote.check(sh`cd ${p.dir} && docker compose -p ${p.project} config --services`)).stdout.toString('utf8').split('\n').filter(Boolean).sort();
  const after = await waitHealthy(remote, p, services);
  const recreated = services.filter((svc) => after.some((c) => c.service === svc && c.id !== before.get(svc)));
  return { dir: p.dir, recreated, services };
}

/**
 * A Compose project on a host: its files, .env and env files written (env
 * files 0600, secrets through stdin), `docker compose pull` then `up -d
 * --remove-orphans`, and a wait until every service is running and healthy.
 * Changed is decided from the files' checksums and, when they are equal,
 * from the configuration Compose renders (`config --hash`) against the
 * hash each running container was created from.
 */
export const project = defineOp({
  kind: 'compose.project',
  schema,
  describe: (p) => `${p.project} in ${p.dir}`,
  probe: (p) => {
    const files = desiredFiles(p);
    return { command: composeProbe(p.dir, p.project, files.map((d) => ({ path: d.path, read: readable(d) }))), parse: (r) => parseComposeState(r.stdout.toString('utf8')) };
  },
  decide: (p, s: ComposeState): Decision<ProjectResult> => {
    const files = desiredFiles(p);
    const differ = files.filter((d) => s.sha256[d.path] !== d.sha256);
    const stale = differ.length === 0 ? staleServices(s) : [];
    const services = Object.keys(s.configHash).sort();
    if (differ.length === 0 && stale.length === 0 && services.length > 0) return { kind: 'ok', result: { dir: p.dir, recreated: [], services } };
    const diffs = differ.map((d) => {
      const path = posix.join(p.dir, d.path);
      const shown = d.shown?.(s.content[d.path]);
      return shown ? `--- ${path}\n+++ ${path}\n${lineDiff(shown.before, shown.after)}` : `${path}: (content hidden: secret) ${s.sha256[d.path] ? 'changed' : 'created'}`;
    });
    const affected = concerned(p, s, differ);
    if (affected) diffs.push(affected);
    const msg = differ.length
      ? `${differ.map((d) => d.path).join(', ')} ${differ.some((d) => s.sha256[d.path]) ? 'changed' : 'written'}; pull and up -d`
      : `up -d: ${stale.join(', ') || 'no containers yet'}`;
    return {
      kind: 'change',
      msg,
      diff: { kind: 'summary', lines: diffs.length ? diffs.join('\n').split('\n') : stale.map((svc) => `${svc}: container missing, stopped, unhealthy or from another configuration`) },
      apply: (remote) => converge(p, s, differ, remote),
      unchanged: (r) => differ.length === 0 && r.recreated.length === 0,
      checkResult: { dir: p.dir, recreated: stale, services },
    };
  },
});

/** "services concerned: ..." when only .env or env files changed (a compose.yml change concerns Compose's own diff). */
function concerned(p: Params, s: ComposeState, differ: Desired[]): string | undefined {
  if (differ.length === 0 || differ.some((d) => !d.path.startsWith('.env') && !(d.path in p.envFiles))) return undefined;
  const env = differ.find((d) => d.path === '.env');
  const envKeys = env ? changedKeys(s.content['.env'] ?? '', renderEnv(p.env).text) : [];
  const compose = p.files['compose.yml'];
  const services = affectedServices(typeof compose === 'string' ? compose : '', { envKeys, envFiles: differ.filter((d) => d.path !== '.env').map((d) => d.path) });
  return `services concerned: ${services.join(', ') || 'none'}${envKeys.length ? ` (changed: ${envKeys.join(', ')})` : ''}`;
}

/** A minimal line diff (removed then added lines, unchanged ones omitted): env files and compose files are short. */
function lineDiff(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const inB = new Set(b);
  const inA = new Set(a);
  return [...a.filter((l) => l && !inB.has(l)).map((l) => `-${l}`), ...b.filter((l) => l && !inA.has(l)).map((l) => `+${l}`)].join('\n');
}
