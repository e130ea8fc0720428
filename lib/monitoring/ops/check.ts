import { z } from '../../shell/zod.ts';
import { Command, sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

const relative = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'a relative path inside the configuration directory');

const schema = z
  .object({
    /** The Prometheus image the stack runs: its promtool checks the files with the same version that will load them. */
    prometheusImage: z.string().min(1),
    /** Prometheus's directory, as it will be mounted at /etc/prometheus: path -> text (prometheus.yml, rules/...). */
    prometheus: z.record(relative, z.string()),
    /** The Alertmanager image and its alertmanager.yml, checked with amtool. */
    alertmanagerImage: z.string().min(1).optional(),
    alertmanager: z.string().optional(),
  })
  .strict();

type Params = z.output<typeof schema>;

export interface CheckState {
  docker: boolean;
  prometheus?: { code: number; output: string };
  alertmanager?: { code: number; output: string };
}

const writeTree = (dir: string, files: Record<string, string>) =>
  Object.entries(files).map(([p, text]) => sh`mkdir -p "$d"/${dir}/$(dirname ${p}) && printf '%s' ${text} > "$d"/${dir}/${p}`);

/**
 * The checks' commands: the candidate files in a scratch directory, each tool
 * in its own image, the directory removed. The two `docker run`s start at once
 * (each costs seconds of container start, mostly waiting), and their outputs
 * are printed after both ended, one section each, in a fixed order.
 */
function checkCommand(p: Params): Command {
  const steps: Command[] = [sh`command -v docker >/dev/null || { echo @@nodocker; exit 0; }`, sh`d=$(mktemp -d)`, sh`trap 'rm -rf "$d"' EXIT`, ...writeTree('prometheus', p.prometheus)];
  const withAlertmanager = p.alertmanager !== undefined && p.alertmanagerImage !== undefined;
  if (withAlertmanager) steps.push(...writeTree('alertmanager', { 'alertmanager.yml': p.alertmanager ?? '' }));
  steps.push(sh`{ docker run --rm -v "$d"/prometheus:/etc/prometheus:ro --entrypoint promtool ${p.prometheusImage} check config /etc/prometheus/prometheus.yml; echo "@@rc $?"; } > "$d"/prometheus.out 2>&1 &`);
  if (withAlertmanager) steps.push(sh`{ docker run --rm -v "$d"/alertmanager:/etc/alertmanager:ro --entrypoint amtool ${p.alertmanagerImage ?? ''} check-config /etc/alertmanager/alertmanager.yml; echo "@@rc $?"; } > "$d"/alertmanager.out 2>&1 &`);
  steps.push(sh`wait`, sh`echo @@prometheus; cat "$d"/prometheus.out`);
  if (withAlertmanager) steps.push(sh`echo @@alertmanager; cat "$d"/alertmanager.out`);
  return Command.join(steps, '\n');
}

export function parseCheck(text: string): CheckState {
  if (text.includes('@@nodocker')) return { docker: false };
  const state: CheckState = { docker: true };
  for (const part of text.split(/^@@(?=prometheus|alertmanager)/m).slice(1)) {
    const [tool, ...rest] = part.split('\n');
    const body = rest.join('\n');
    const rc = /@@rc (\d+)/.exec(body);
    const result = { code: rc ? Number(rc[1]) : 1, output: body.replace(/@@rc \d+\s*$/, '').trim() };
    if (tool === 'prometheus') state.prometheus = result;
    else if (tool === 'alertmanager') state.alertmanager = result;
  }
  return state;
}

/** promtool's and amtool's lines that say what is wrong (their SUCCESS lines and banners dropped). */
const failures = (output: string) => output.split('\n').filter((l) => /FAILED|error|Error|err=/.test(l)).join('\n') || output;

/**
 * Prometheus's configuration and rule files checked by `promtool check
 * config` and Alertmanager's by `amtool check-config`, run from the images
 * that will load them, before anything is written. Read-only: it runs in
 * check mode too, so `--check` catches what Prometheus would refuse.
 */
export const check = defineOp({
  kind: 'monitoring.check',
  schema,
  readOnly: true,
  describe: (p) => `promtool check config (${Object.keys(p.prometheus).length} files)${p.alertmanager !== undefined ? ', amtool check-config' : ''}`,
  probe: (p) => ({ command: checkCommand(p), parse: (r: ExecResult) => parseCheck(r.stdout.toString('utf8')) }),
  decide: (p, s: CheckState): Decision<CheckState> => {
    if (!s.docker) return { kind: 'skip', reason: 'no Docker on this host yet: the checks run in the monitoring images' };
    if (!s.prometheus) return { kind: 'fail', reason: 'promtool did not run' };
    const bad: string[] = [];
    if (s.prometheus.code !== 0) bad.push(`promtool check config:\n${failures(s.prometheus.output)}`);
    if (p.alertmanager !== undefined && s.alertmanager?.code !== 0) bad.push(`amtool check-config:\n${failures(s.alertmanager?.output ?? 'did not run')}`);
    if (bad.length) return { kind: 'fail', reason: bad.join('\n') };
    return { kind: 'ok', result: s, msg: 'promtool and amtool accept the configuration' };
  },
});
