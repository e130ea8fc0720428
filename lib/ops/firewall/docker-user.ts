import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { requireThat, sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { putFiles, type PutFile } from '../files/put-files.ts';
import { editBlock } from '../files/edit-block.ts';

/**
 * Docker publishes ports through nat PREROUTING (DNAT) and filter FORWARD,
 * never through INPUT: UFW's or RIGGER-INPUT's allow rules do not close them
 * (moby/moby#22054). DOCKER-USER is the chain Docker keeps for the host's own
 * filtering, jumped to first from FORWARD. After the DNAT, `--dport` is the
 * container's port (host mode) or the ingress sandbox's; `--ctorigdstport`
 * matches the port the client asked for, in every mode. Replies and
 * established flows pass first (Docker's documentation puts the
 * ESTABLISHED,RELATED rule before any drop); a refused TCP port answers with a
 * reset, so a client outside the limit is refused at once, not left to time out.
 * Docker creates the chain only when it is missing and "will not delete or
 * modify any pre-existing rules" in it (libnetwork's firewall_linux.go), so
 * rules loaded before docker.service starts stay across its restarts.
 */

/** One published port and the networks allowed to reach it (the rest is refused). */
export interface PortLimit {
  port: number;
  proto: 'tcp' | 'udp';
  from: string[];
}

/** The after.rules block's marker (compose-host's, and a swarm node's when its firewall is UFW). */
export const DOCKER_USER_MARKER = '# {mark} RIGGER DOCKER-USER';
export const UFW_AFTER_RULES = '/etc/ufw/after.rules';

/**
 * The DOCKER-USER chain as iptables-restore text. Declaring the chain
 * (`:DOCKER-USER`) makes iptables-restore --noflush replace its rules, so
 * loading the text twice leaves the same chain. Traffic that enters FORWARD
 * from one of `through` (the node's own Docker bridges: its containers
 * talking to each other and to the host's ports) is not a client of the
 * published port and is left alone. `tag`, when given, is a first rule that
 * matches nothing and only names the rule set, so a reader of the live chain
 * knows which one is loaded (iptables prints rules in its own spelling).
 */
export function dockerUserRules(limits: readonly PortLimit[], through: readonly string[], tag?: string): string {
  const lines = ['*filter', ':DOCKER-USER - [0:0]'];
  if (tag) lines.push(`-A DOCKER-USER -m comment --comment "${tag}"`);
  lines.push('-A DOCKER-USER -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN', ...through.map((i) => `-A DOCKER-USER -i ${i} -j RETURN`));
  for (const l of limits) {
    for (const from of l.from) lines.push(`-A DOCKER-USER -s ${from} -p ${l.proto} -m conntrack --ctorigdstport ${l.port} -j RETURN`);
    lines.push(`-A DOCKER-USER -p ${l.proto} -m conntrack --ctorigdstport ${l.port} -j REJECT --reject-with ${l.proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}`);
  }
  lines.push('-A DOCKER-USER -j RETURN', 'COMMIT');
  return lines.join('\n');
}

// ---- the op -------------------------------------------------------------------

export const DOCKER_USER_FILE = '/etc/iptables/rigger-docker-user.rules';
const UNIT = 'rigger-docker-user.service';
const UNIT_PATH = `/etc/systemd/system/${UNIT}`;

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, 'an IPv4 address or CIDR');
const iface = z.string().regex(/^[A-Za-z0-9_.+-]{1,15}$/, 'an interface name (+ is a wildcard)');

const schema = z
  .object({
    /** Empty: no limit here; a rule set this op loaded before is taken away (the ports open again, as Docker has them). */
    limits: z.array(z.object({ port: z.number().int().min(1).max(65535), proto: z.enum(['tcp', 'udp']), from: z.array(cidr).min(1) }).strict()),
    /** Bridges whose traffic is the node's own containers' (docker0, docker_gwbridge, br-+). */
    through: z.array(iface).default(['docker0', 'docker_gwbridge', 'br-+']),
    /**
     * How the rules come back after a reboot: ufw loads them with after.rules
     * (so a `ufw reload` keeps them, as compose-host's); unit: a file of their
     * own restored by a oneshot unit before docker.service starts.
     */
    persist: z.enum(['ufw', 'unit']),
  })
  .strict();

type Params = z.output<typeof schema>;

export interface DockerUserState {
  installed: boolean;
  /** `iptables -S DOCKER-USER`: its -A lines. */
  live: string[];
  /** The persisted file (after.rules or the rules file); undefined when it does not exist. */
  persisted: string | undefined;
  unit: string;
}

export function parseDockerUser(text: string): DockerUserState {
  if (text.startsWith('@@missing')) return { installed: false, live: [], persisted: undefined, unit: '' };
  const [live = '', persisted = '', unit = ''] = text.split(/@@(?:persisted|unit)\n/);
  return {
    installed: true,
    live: live.split('\n').filter((l) => l.startsWith('-A DOCKER-USER')),
    persisted: persisted.startsWith('@@absent') ? undefined : persisted,
    unit: unit.trim(),
  };
}

const unitText = `[Unit]
Description=rigger DOCKER-USER rules (published ports' from limits)
After=rigger-firewall.service
Before=network-pre.target docker.service
Wants=network-pre.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'iptables-restore --noflush ${DOCKER_USER_FILE}'
[Install]
WantedBy=multi-user.target
`;

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const tagOf = (limits: Params['limits'], through: string[]) => `rigger-docker-user:${sha(JSON.stringify([limits, through])).slice(0, 12)}`;
const ruleCount = (text: string) => text.split('\n').filter((l) => l.startsWith('-A DOCKER-USER')).length;

/** The limits the live chain holds: its tag rule names them, and none of its rules is missing. */
const liveHas = (s: DockerUserState, tag: string, expected: number) => s.live.length === expected && s.live.some((l) => l.includes(tag));
const liveIsOurs = (s: DockerUserState) => s.live.some((l) => l.includes('rigger-docker-user:'));

function decide(p: Params, s: DockerUserState): Decision<{ limits: number }> {
  const result = { limits: p.limits.length };
  const present = p.limits.length > 0;
  const tag = tagOf(p.limits, p.through);
  const text = dockerUserRules(p.limits, p.through, tag);
  const path = p.persist === 'ufw' ? UFW_AFTER_RULES : DOCKER_USER_FILE;
  const before = s.persisted ?? '';
  // What the persisted file must become: after.rules with (or without) the block; the unit's own file, or none.
  const after = p.persist === 'ufw' ? editBlock(before, { block: present ? text : '', marker: DOCKER_USER_MARKER, state: present ? 'present' : 'absent' }) : present ? `${text}\n` : '';
  const commands: Command[] = s.installed ? [] : [requireThat(sh`command -v iptables-restore`, 'iptables is not installed (install the iptables package first)')];
  const changes: string[] = [];
  const writes: PutFile[] = [];
  if (p.persist === 'ufw' && s.persisted === undefined && present) commands.push(requireThat(sh`test -f ${UFW_AFTER_RULES}`, `${UFW_AFTER_RULES} is missing (install ufw first)`));
  if (after !== before) {
    if (after === '' && p.persist === 'unit') commands.push(sh`rm -f ${DOCKER_USER_FILE}`);
    else writes.push({ path, data: Buffer.from(after), sha256: sha(after), mode: '0640', makeParents: true });
    changes.push(after === '' ? `remove ${path}` : `write ${path}`);
  }
  const wantUnit = p.persist === 'unit' && present;
  if (wantUnit && s.unit !== unitText.trim()) writes.push({ path: UNIT_PATH, data: Buffer.from(unitText), sha256: sha(unitText), mode: '0644' });
  if (writes.length) commands.push(putFiles(writes));
  if (wantUnit && s.unit !== unitText.trim()) {
    commands.push(sh`systemctl daemon-reload && systemctl enable ${UNIT} >/dev/null 2>&1`);
    changes.push(`enable ${UNIT} to restore the rules at boot`);
  }
  if (!wantUnit && s.unit !== '') {
    commands.push(sh`systemctl disable ${UNIT} >/dev/null 2>&1 || true; rm -f ${UNIT_PATH}; systemctl daemon-reload`);
    changes.push(`remove ${UNIT}`);
  }
  if (present && !liveHas(s, tag, ruleCount(text))) {
    // Loaded from what was just persisted, so the live chain is the file's.
    commands.push(p.persist === 'ufw' ? sh`sed -n '/^# BEGIN RIGGER DOCKER-USER$/,/^# END RIGGER DOCKER-USER$/p' ${UFW_AFTER_RULES} | iptables-restore --noflush` : sh`iptables-restore --noflush ${DOCKER_USER_FILE}`);
    changes.push(`load ${p.limits.length} port limits into DOCKER-USER (${p.limits.map((l) => `${l.port}/${l.proto} from ${l.from.join(', ')}`).join('; ')})`);
  }
  if (!present && liveIsOurs(s)) {
    // Back to the chain Docker makes: a lone RETURN.
    commands.push(sh`iptables -F DOCKER-USER && iptables -A DOCKER-USER -j RETURN`);
    changes.push('empty DOCKER-USER: no published port has a from limit here');
  }
  if (changes.length === 0) return { kind: 'ok', result };
  return { kind: 'change', msg: changes.join(', '), diff: { kind: 'text', path, before, after }, commands, result: () => result, checkResult: result };
}

/** The DOCKER-USER chain from published ports' `from` limits: loaded live, and persisted to come back after a reboot. */
export const dockerUser = defineOp({
  kind: 'firewall.docker-user',
  schema,
  describe: (p) => `DOCKER-USER: ${p.limits.length ? p.limits.map((l) => `${l.port}/${l.proto}`).join(', ') : 'no limits'}`,
  probe: (p) => ({
    command: sh`if ! command -v iptables-restore >/dev/null; then echo @@missing; exit 0; fi
iptables -S DOCKER-USER 2>/dev/null || true
echo @@persisted; cat ${p.persist === 'ufw' ? UFW_AFTER_RULES : DOCKER_USER_FILE} 2>/dev/null || echo @@absent
echo @@unit; cat ${UNIT_PATH} 2>/dev/null || true`,
    parse: (r: ExecResult) => parseDockerUser(r.stdout.toString('utf8')),
  }),
  decide,
  hostLocal: true,
});
