import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { requireThat, sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { putFiles, type PutFile } from '../files/put-files.ts';

const cidr = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|any)$/, 'an IPv4 address or CIDR, or any');

const comment = z.string().regex(/^[A-Za-z0-9 _.:/-]{0,60}$/, 'letters, digits, spaces and _ . : / - (at most 60)').optional();

const portRule = z
  .object({
    port: z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}:\d{1,5}$/, 'a port or a range like 8000:8100')]),
    proto: z.enum(['tcp', 'udp']),
    from: cidr.default('any'),
    comment,
  })
  .strict();

/**
 * A whole IP protocol, without ports: ESP (IP protocol 50), which Docker's
 * encrypted overlays send between the nodes. ufw takes it only in its full
 * syntax and refuses a port with it (ufw(8), RULE SYNTAX: "esp  valid without
 * port number"; EXAMPLES: "IPSec is supported by using the 'esp' ('50') and
 * 'ah' ('51') protocols. These protocols can only be used with the full
 * syntax", e.g. `ufw allow to 10.0.0.1 from 10.4.0.0/16 proto esp`).
 */
const protocolRule = z
  .object({
    proto: z.enum(['esp']),
    from: cidr.default('any'),
    comment,
  })
  .strict();

export const ruleSchema = z.union([portRule, protocolRule]);

export type Rule = z.output<typeof ruleSchema>;

const schema = z
  .object({
    backend: z.enum(['ufw', 'iptables']),
    rules: z.array(ruleSchema),
    /** Allowed before anything else, so enabling the firewall never cuts this run's SSH connection. */
    sshPort: z.number().int().min(1).max(65535).default(22),
    /** ufw: enable with default deny incoming. iptables: RIGGER-INPUT ends with a DROP. */
    enabled: z.boolean().default(true),
  })
  .strict();

type Params = z.output<typeof schema>;

const isPortRule = (r: Rule): r is z.output<typeof portRule> => 'port' in r;

// ufw's user.rules tuple spells a protocol rule's port "any" (`allow esp any 0.0.0.0/0 any 10.0.0.2 in`), and so does the key.
const key = (r: Rule) => `${r.proto} ${isPortRule(r) ? r.port : 'any'} ${r.from === 'any' ? '0.0.0.0/0' : r.from.includes('/') ? r.from : `${r.from}/32`}`;

function allRules(p: Params): Rule[] {
  const ssh: Rule = { port: p.sshPort, proto: 'tcp', from: 'any', comment: 'ssh (rigger keeps it open)' };
  const list = [ssh, ...p.rules];
  const seen = new Set<string>();
  return list.filter((r) => (seen.has(key(r)) ? false : (seen.add(key(r)), true)));
}

// ---- ufw ------------------------------------------------------------------

export interface UfwState {
  installed: boolean;
  active: boolean;
  /** "tcp 2377 0.0.0.0/0" for every allow rule in /etc/ufw/user.rules */
  allowed: Set<string>;
}

export function parseUfw(text: string): UfwState {
  const [head = '', rules = ''] = text.split('@@rules\n');
  if (head.includes('@@missing')) return { installed: false, active: false, allowed: new Set() };
  const allowed = new Set<string>();
  for (const line of rules.split('\n')) {
    // ### tuple ### allow tcp 2377 0.0.0.0/0 any 0.0.0.0/0 in comment=...
    const m = /^### tuple ### allow (\w+) (\S+) \S+ \S+ (\S+) in/.exec(line);
    // ufw writes a single address without /32, as key() spells it.
    if (m) allowed.add(`${m[1]} ${m[2]} ${m[3]!.includes('/') ? m[3] : `${m[3]}/32`}`);
  }
  return { installed: true, active: /^Status: active/m.test(head), allowed };
}

/**
 * A backend that is not installed yet is what check mode sees before the
 * package task ran: the change is planned as on an empty firewall, and the
 * real run stops with a clear message if the package is still missing.
 */
const requireTool = (tool: string, pkg: string) => requireThat(sh`command -v ${tool}`, `${pkg} is not installed (install the ${pkg} package first)`);

function decideUfw(p: Params, s: UfwState): Decision<{ rules: number }> {
  const commands: Command[] = s.installed ? [] : [requireTool('ufw', 'ufw')];
  const changes: string[] = [];
  for (const r of allRules(p)) {
    if (s.allowed.has(key(r))) continue;
    const from = r.from === 'any' ? 'any' : r.from;
    const rest = [...(isPortRule(r) ? ['port', String(r.port)] : []), ...(r.comment ? ['comment', r.comment] : [])];
    commands.push(sh`ufw allow proto ${r.proto} from ${from} to any ${rest}`);
    changes.push(`allow ${key(r)}${r.comment ? ` (${r.comment})` : ''}`);
  }
  if (p.enabled && !s.active) {
    commands.push(sh`ufw default deny incoming`, sh`ufw --force enable`);
    changes.push('enable ufw, default deny incoming');
  }
  if (!p.enabled && s.active) (commands.push(sh`ufw disable`), changes.push('disable ufw'));
  const result = { rules: allRules(p).length };
  if (changes.length === 0) return { kind: 'ok', result };
  return { kind: 'change', msg: changes.join(', '), diff: { kind: 'summary', lines: changes }, commands, result: () => result, checkResult: result };
}

// ---- iptables ---------------------------------------------------------------

export const IPTABLES_FILE = '/etc/iptables/rigger.rules';
const UNIT = 'rigger-firewall.service';

export function iptablesText(p: Params): string {
  const lines = ['# Managed by rigger: loaded with iptables-restore --noflush', '*filter', ':RIGGER-INPUT - [0:0]', '-F RIGGER-INPUT'];
  lines.push('-A RIGGER-INPUT -i lo -j ACCEPT', '-A RIGGER-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT');
  for (const r of allRules(p)) {
    const from = r.from === 'any' ? '' : ` -s ${r.from}`;
    const comment = r.comment ? ` -m comment --comment "${r.comment}"` : '';
    // iptables knows esp by name (its built-in protocol table); a protocol rule has no port match.
    const match = isPortRule(r) ? ` -m ${r.proto} --dport ${r.port}` : '';
    lines.push(`-A RIGGER-INPUT${from} -p ${r.proto}${match}${comment} -j ACCEPT`);
  }
  if (p.enabled) lines.push('-A RIGGER-INPUT -j DROP');
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

export interface IptablesState {
  installed: boolean;
  file: string;
  liveRules: number;
  jump: boolean;
  unit: string;
}

export function parseIptables(text: string): IptablesState {
  if (text.startsWith('@@missing')) return { installed: false, file: '', liveRules: 0, jump: false, unit: '' };
  const [file = '', live = '', jump = '', unit = ''] = text.split(/@@(?:live|jump|unit)\n/);
  return { installed: true, file, liveRules: live.split('\n').filter((l) => l.startsWith('-A RIGGER-INPUT')).length, jump: jump.trim() === 'yes', unit: unit.trim() };
}

const unitText = `[Unit]\nDescription=rigger firewall rules\nBefore=network-pre.target docker.service\nWants=network-pre.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'iptables-restore --noflush ${IPTABLES_FILE} && (iptables -C INPUT -j RIGGER-INPUT 2>/dev/null || iptables -I INPUT 1 -j RIGGER-INPUT)'\n[Install]\nWantedBy=multi-user.target\n`;

function decideIptables(p: Params, s: IptablesState): Decision<{ rules: number }> {
  const text = iptablesText(p);
  const expectedLive = text.split('\n').filter((l) => l.startsWith('-A RIGGER-INPUT')).length;
  const commands: Command[] = s.installed ? [] : [requireTool('iptables-restore', 'iptables')];
  const changes: string[] = [];
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');
  // The rules file and the boot unit go in one call of the file writer, before the rules are loaded: both or neither.
  const writes: PutFile[] = [];
  if (s.file !== text) {
    commands.push(sh`mkdir -p /etc/iptables`);
    writes.push({ path: IPTABLES_FILE, data: Buffer.from(text), sha256: sha(text), mode: '0644', validate: 'iptables-restore --test --noflush %s' });
    changes.push(`write ${IPTABLES_FILE}`);
  }
  const unitChanged = s.unit !== unitText.trim();
  if (unitChanged) writes.push({ path: `/etc/systemd/system/${UNIT}`, data: Buffer.from(unitText), sha256: sha(unitText), mode: '0644' });
  if (writes.length) commands.push(putFiles(writes));
  if (s.file !== text || s.liveRules !== expectedLive) {
    commands.push(sh`iptables-restore --noflush ${IPTABLES_FILE}`);
    changes.push(`load ${expectedLive} rules into RIGGER-INPUT`);
  }
  if (!s.jump) (commands.push(sh`iptables -I INPUT 1 -j RIGGER-INPUT`), changes.push('jump from INPUT to RIGGER-INPUT'));
  if (unitChanged) {
    commands.push(sh`systemctl daemon-reload && systemctl enable ${UNIT} >/dev/null 2>&1`);
    changes.push(`enable ${UNIT} to restore the rules at boot`);
  }
  const result = { rules: allRules(p).length };
  if (changes.length === 0) return { kind: 'ok', result };
  return { kind: 'change', msg: changes.join(', '), diff: { kind: 'text', path: IPTABLES_FILE, before: s.file, after: text }, commands, result: () => result, checkResult: result };
}

/** Incoming allow rules (ports, or a whole protocol such as ESP), with ufw or a dedicated iptables chain; the SSH port is always kept open. */
export const rules = defineOp({
  kind: 'firewall.rules',
  schema,
  describe: (p) => `${p.backend}: ${p.rules.length} rules`,
  probe: (p) =>
    p.backend === 'ufw'
      ? {
          command: sh`if ! command -v ufw >/dev/null; then echo @@missing; exit 0; fi; LC_ALL=C ufw status; echo @@rules; cat /etc/ufw/user.rules 2>/dev/null || true`,
          parse: (r: ExecResult) => parseUfw(r.stdout.toString('utf8')),
        }
      : {
          command: sh`if ! command -v iptables-restore >/dev/null; then echo @@missing; exit 0; fi
cat ${IPTABLES_FILE} 2>/dev/null || true; echo @@live; iptables -S RIGGER-INPUT 2>/dev/null || true
echo @@jump; if iptables -C INPUT -j RIGGER-INPUT 2>/dev/null; then echo yes; else echo no; fi
echo @@unit; cat /etc/systemd/system/${UNIT} 2>/dev/null || true`,
          parse: (r: ExecResult) => parseIptables(r.stdout.toString('utf8')),
        },
  decide: (p, s: UfwState | IptablesState) => (p.backend === 'ufw' ? decideUfw(p, s as UfwState) : decideIptables(p, s as IptablesState)),
});
