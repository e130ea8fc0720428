import { z } from '../../shell/zod.ts';
import { sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

const schema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a network name: letters, digits, _ . -'),
    driver: z.string().default('overlay'),
    attachable: z.boolean().default(true),
    /** IPsec between nodes (overlay only). */
    encrypted: z.boolean().default(false),
    /** Other driver options (-o key=value). */
    options: z.record(z.string(), z.string()).default({}),
    labels: z.record(z.string(), z.string()).default({}),
    subnet: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'a CIDR like 10.20.0.0/24').optional(),
    /**
     * What to do when the network exists with other options: fail (report
     * the difference), warn (report it, leave the network), or recreate it
     * (which cuts the services attached to it).
     */
    onDifference: z.enum(['fail', 'warn', 'recreate']).default('fail'),
  })
  .strict();

type Params = z.output<typeof schema>;

interface NetworkState {
  driver: string;
  attachable: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
  subnets: string[];
}

const ENCRYPTED = 'encrypted';

export function parseNetwork(text: string): NetworkState | undefined {
  const t = text.trim();
  if (t === '@@missing' || t === '') return undefined;
  const j = JSON.parse(t) as { Driver?: string; Attachable?: boolean; Options?: Record<string, string> | null; Labels?: Record<string, string> | null; IPAM?: { Config?: { Subnet?: string }[] | null } };
  return {
    driver: j.Driver ?? '',
    attachable: j.Attachable === true,
    options: j.Options ?? {},
    labels: j.Labels ?? {},
    subnets: (j.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter(Boolean),
  };
}

/** The differences that matter, as "what: have -> want" lines; options Docker adds itself are ignored. */
export function networkDifferences(p: Params, s: NetworkState): string[] {
  const out: string[] = [];
  if (s.driver !== p.driver) out.push(`driver: ${s.driver} -> ${p.driver}`);
  if (s.attachable !== p.attachable) out.push(`attachable: ${s.attachable} -> ${p.attachable}`);
  const encrypted = ENCRYPTED in s.options;
  if (encrypted !== p.encrypted) out.push(`encrypted: ${encrypted} -> ${p.encrypted}`);
  for (const [k, v] of Object.entries(p.options)) if (s.options[k] !== v) out.push(`option ${k}: ${s.options[k] ?? '(unset)'} -> ${v}`);
  for (const [k, v] of Object.entries(p.labels)) if (s.labels[k] !== v) out.push(`label ${k}: ${s.labels[k] ?? '(unset)'} -> ${v}`);
  if (p.subnet && !s.subnets.includes(p.subnet)) out.push(`subnet: ${s.subnets.join(',') || '(auto)'} -> ${p.subnet}`);
  return out;
}

function createCommand(p: Params): Command {
  const args = ['--driver', p.driver];
  if (p.attachable) args.push('--attachable');
  if (p.encrypted) args.push('--opt', ENCRYPTED);
  for (const [k, v] of Object.entries(p.options)) args.push('--opt', `${k}=${v}`);
  for (const [k, v] of Object.entries(p.labels)) args.push('--label', `${k}=${v}`);
  if (p.subnet) args.push('--subnet', p.subnet);
  return sh`docker network create ${args} ${p.name} >/dev/null`;
}

/**
 * Waits until the old network is really gone: `docker network rm` right
 * after a stack's removal races (LAB.md), so poll for the state, bounded.
 */
const removeAndWait = (name: string) =>
  sh`docker network rm ${name} >/dev/null; i=0; while docker network inspect ${name} >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 60 ] && { echo "network "${name}" still exists after 30 s" >&2; exit 1; }; sleep 0.5; done`;

/** A Docker network (on a swarm manager for overlays), compared option by option. */
export const network = defineOp({
  kind: 'docker.network',
  schema,
  describe: (p) => `network ${p.name} (${p.driver}${p.encrypted ? ', encrypted' : ''}${p.attachable ? ', attachable' : ''})`,
  probe: (p) => ({
    command: sh`docker network inspect ${p.name} --format '{{json .}}' 2>/dev/null || echo @@missing`,
    parse: (r: ExecResult) => parseNetwork(r.stdout.toString('utf8')),
  }),
  decide: (p, s: NetworkState | undefined): Decision<{ name: string; differences: string[] }> => {
    if (!s) {
      const result = { name: p.name, differences: [] };
      return { kind: 'change', msg: `create ${p.name}`, diff: { kind: 'summary', lines: [`+ network ${p.name} ${p.driver}${p.encrypted ? ' encrypted' : ''}${p.attachable ? ' attachable' : ''}`] }, commands: [createCommand(p)], result: () => result, checkResult: result };
    }
    const differences = networkDifferences(p, s);
    const result = { name: p.name, differences };
    if (differences.length === 0) return { kind: 'ok', result };
    const summary = `${p.name} differs from the inventory: ${differences.join('; ')}`;
    if (p.onDifference === 'warn') return { kind: 'ok', result, msg: `${summary} (left as it is)` };
    if (p.onDifference === 'fail') return { kind: 'fail', reason: `${summary}. Re-creating it would cut the services attached to it; set onDifference to recreate to allow that, or warn to leave it` };
    return { kind: 'change', msg: `re-create ${p.name}: ${differences.join('; ')}`, diff: { kind: 'summary', lines: differences }, commands: [removeAndWait(p.name), createCommand(p)], result: () => result, checkResult: result };
  },
});

