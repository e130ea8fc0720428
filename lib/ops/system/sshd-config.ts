import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { quote } from '../../shell/quote.ts';
import { absolutePath, defineOp, type Decision } from '../../model/op.ts';
import { parsePathState, pathStateScript, type PathState } from '../files/path-state.ts';
import { atomicWrite } from '../files/write-file.ts';
import { validateWithShell } from '../files/validate-words.ts';
import type { Probe } from '../../model/op.ts';
import { mainIncludes, withGlobalSettings } from './sshd-main-file.ts';

const schema = z
  .object({
    /** sshd keywords and values: { PermitRootLogin: 'no', AllowUsers: ['deploy', 'admin'] }. */
    settings: z.record(z.string().regex(/^[A-Z][A-Za-z0-9]+$/, 'an sshd_config keyword like PermitRootLogin'), z.union([z.string().min(1), z.number(), z.array(z.string().min(1)).min(1)])),
    /**
     * A drop-in read before the main file's own settings (Debian includes
     * sshd_config.d first). Where the main file includes no such drop-in
     * (DSM, older distributions), the settings go into the main file itself.
     */
    file: absolutePath.default('/etc/ssh/sshd_config.d/50-rigger.conf'),
    /** sshd's main configuration file. */
    main: absolutePath.default('/etc/ssh/sshd_config'),
    /** Reload sshd after a change; existing sessions (this run's) survive a reload. */
    reload: z.boolean().default(true),
  })
  .strict();

/** Keywords sshd reads once per line, so a list becomes several lines (Port 22, Port 222). */
const ONE_VALUE_PER_LINE = new Set(['Port', 'ListenAddress', 'HostKey']);

type Settings = Record<string, string | number | string[]>;

/** One keyword's configuration lines. */
function settingLines(k: string, v: string | number | string[]): string[] {
  return Array.isArray(v) && ONE_VALUE_PER_LINE.has(k) ? v.map((x) => `${k} ${x}`) : [`${k} ${Array.isArray(v) ? v.join(' ') : v}`];
}

export function sshdText(settings: Settings): string {
  return ['# Managed by rigger', ...Object.entries(settings).flatMap(([k, v]) => settingLines(k, v))].join('\n') + '\n';
}

interface SshdState {
  dropIn: PathState;
  /** The main file's bytes (empty when absent) and mode. */
  main: Buffer;
  mainMode: string;
}

const modeOf = (octal: string) => (octal ? octal.padStart(4, '0') : '0644');

/** The drop-in's state and the main file's content, in one read. */
function sshdProbe(file: string, main: string): Probe<SshdState> {
  return {
    command: sh`p=${file}
${pathStateScript(true)}
echo "@@main $(stat -c %a -- ${main} 2>/dev/null)"
if [ -f ${main} ]; then base64 -w0 -- ${main}; fi
echo`,
    parse: (r) => {
      const text = r.stdout.toString('utf8');
      const at = text.lastIndexOf('@@main');
      const [head = '', b64 = ''] = text.slice(at).split('\n');
      return { dropIn: parsePathState({ ...r, stdout: Buffer.from(text.slice(0, at)) }), main: Buffer.from(b64, 'base64'), mainMode: modeOf(head.slice('@@main '.length).trim()) };
    },
  };
}

// Debian names the unit ssh, DSM and most others sshd; a reload keeps existing sessions (this run's).
const RELOAD = sh`if systemctl is-active --quiet ssh; then systemctl reload ssh; elif systemctl is-active --quiet sshd; then systemctl reload sshd; fi`;

/**
 * The settings written into the main file, where it includes no drop-in: a
 * drop-in there would be written, reported changed and never read.
 */
function decideMain(p: { settings: Settings; main: string; reload: boolean }, s: SshdState, mainText: string): Decision<{ file: string }> {
  const text = withGlobalSettings(mainText, Object.fromEntries(Object.entries(p.settings).map(([k, v]) => [k, settingLines(k, v)])));
  const result = { file: p.main };
  if (text === mainText) return { kind: 'ok', result, msg: `${p.main} (it includes no drop-in)` };
  const sha = createHash('sha256').update(text).digest('hex');
  return {
    kind: 'change',
    msg: `update ${p.main} (it includes no drop-in)`,
    diff: { kind: 'text', path: p.main, before: mainText, after: text },
    commands: [atomicWrite(p.main, Buffer.from(text), sha, s.mainMode, { validate: validateWithShell('sshd -t -f "$1"') }), ...(p.reload ? [RELOAD] : [])],
    result: () => result,
    checkResult: result,
  };
}

/**
 * sshd settings in a drop-in (or the main file, where it includes none),
 * checked with `sshd -t` against the whole configuration before they replace
 * the old file, so a typo never reaches a running sshd and never locks
 * anyone out.
 */
export const sshdConfig = defineOp({
  kind: 'system.sshdConfig',
  schema,
  describe: (p) => `${p.file}: ${Object.keys(p.settings).join(', ')}`,
  probe: (p) => sshdProbe(p.file, p.main),
  decide: (p, s: SshdState): Decision<{ file: string }> => {
    const mainText = s.main.toString('utf8');
    if (s.main.length && !mainIncludes(mainText, p.file)) return decideMain(p, s, mainText);
    const text = sshdText(p.settings);
    const sha = createHash('sha256').update(text).digest('hex');
    const result = { file: p.file };
    const d = s.dropIn;
    if (d.exists && d.sha256 === sha) return { kind: 'ok', result };
    // The candidate drop-in is tested together with the main configuration
    // (minus its Include lines, which would read the old drop-in too).
    const validate = validateWithShell(`f=$(mktemp) && { cat -- "$1"; grep -iv '^[[:space:]]*Include' ${quote(p.main).toString('utf8')}; } > "$f" && sshd -t -f "$f"; r=$?; rm -f "$f"; exit $r`);
    return {
      kind: 'change',
      msg: `${d.exists ? 'update' : 'create'} ${p.file}`,
      diff: { kind: 'text', path: p.file, before: d.content?.toString('utf8') ?? '', after: text },
      commands: [sh`mkdir -p -- "$(dirname -- ${p.file})"`, atomicWrite(p.file, Buffer.from(text), sha, '0644', { validate }), ...(p.reload ? [RELOAD] : [])],
      result: () => result,
      checkResult: result,
    };
  },
});
