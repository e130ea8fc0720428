import { defineRole, facts, ops, z } from 'rigger-ops';
import { ruleSchema } from 'rigger-ops/lib/ops/firewall/rules';
import { unlessDsm } from '../common.ts';
import { encryptedOverlays, isSwarmNode, kernelVerdict, otherSwarmNodes } from '../kernel-needs.ts';
import { dsmSshdVerdict } from '../dsm-sshd.ts';
// The user and port this run connects with, as the transport computes them: hardening must keep them working.
import { sshLogin as connection } from 'rigger-ops/lib/cli/connection';

/** The ports Docker Swarm needs between nodes: management, gossip, overlay data. */
export const SWARM_PORTS = [
  { port: 2377, proto: 'tcp', comment: 'swarm management' },
  { port: 7946, proto: 'tcp', comment: 'swarm gossip' },
  { port: 7946, proto: 'udp', comment: 'swarm gossip' },
  { port: 4789, proto: 'udp', comment: 'swarm overlay' },
] as const;

export const baseDefaults = z.object({
  base_packages: z.array(z.string()).default(['apt-transport-https', 'ca-certificates', 'curl', 'gnupg', 'lsb-release', 'git', 'vim', 'tzdata']),
  /** none: leave installed packages alone; safe: apt-get upgrade; full: apt-get dist-upgrade. */
  apt_upgrade: z.enum(['none', 'safe', 'full']).default('none'),
  timezone: z.string().regex(/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, 'a zone name like Asia/Seoul').default('Etc/UTC'),
  /** The port sshd ends up on. While it differs from the port this run connects to, sshd listens on both. */
  sshd_port: z.number().int().min(1).max(65535).default(22),
  sshd_permit_root_login: z.enum(['yes', 'no', 'prohibit-password']).default('no'),
  sshd_password_authentication: z.boolean().default(false),
  /** Empty: no AllowUsers line. Must include the user this run connects as. */
  sshd_allow_users: z.array(z.string().min(1)).default([]),
  firewall_enabled: z.boolean().default(true),
  firewall_backend: z.enum(['ufw', 'iptables']).default('ufw'),
  /** Where swarm traffic may come from (the cluster's networks); any by default. */
  firewall_swarm_from: z.string().default('any'),
  /** Ports this node publishes (its services), besides SSH and the swarm's. */
  published_ports: z.array(ruleSchema).default([]),
});

/** Packages, time zone, sshd hardening and the firewall: what every node gets first. */
export const base = defineRole({
  name: 'base',
  defaults: baseDefaults,
  build: ({ task }) => {
    const packages = task({
      name: 'base packages',
      ...unlessDsm('no apt; DSM packages come from Package Center'),
      op: (h) => ops.apt.packages({ names: [...h.vars.base_packages, ...(h.vars.firewall_enabled ? [h.vars.firewall_backend] : [])], updateCache: true }),
    });
    const upgradable = task({
      name: 'packages with upgrades',
      ...unlessDsm('no apt; DSM updates itself (Control Panel > Update)', { when: (h) => h.vars.apt_upgrade !== 'none', whenReason: 'apt_upgrade is none' }),
      op: (h) => ops.shell({ script: `apt-get -s ${h.vars.apt_upgrade === 'full' ? 'dist-upgrade' : 'upgrade'} | awk '/^Inst /{print $2}'`, readOnly: true }),
    });
    return {
      tasks: [
        // First, before this host changes: a kernel without ESP or IPVS takes encrypted overlays and the ingress
        // mesh and then drops their traffic, so site.ts refuses it here as preflight.ts does (a kernel it cannot read passes).
        task({
          name: 'kernel carries the swarm settings',
          op: (h) => {
            const v = kernelVerdict(h);
            return ops.assert({ that: v.level !== 'fail', message: `refusing to set up this node: ${v.detail}`, success: v.detail });
          },
        }),
        // Also before any change: DSM sets sshd's port itself (roles/dsm-sshd.ts says why rigger does not).
        task({
          name: 'sshd port on DSM',
          when: (h) => h.fact(facts.dsm).present,
          whenReason: 'not DSM: the sshd hardening below sets the port',
          op: (h) => {
            const v = dsmSshdVerdict(h);
            return ops.assert({ that: v.level !== 'fail', message: `refusing to set up this node: ${v.detail}`, success: v.detail });
          },
        }),
        packages,
        upgradable,
        task({
          name: 'upgrade packages',
          ...unlessDsm('no apt; DSM updates itself (Control Panel > Update)', {
            when: (h) => h.vars.apt_upgrade !== 'none' && (h.result(upgradable)?.stdout.trim() ?? '') !== '',
            whenReason: (h) => (h.vars.apt_upgrade === 'none' ? 'apt_upgrade is none' : 'nothing to upgrade'),
          }),
          op: (h) => ops.command({ argv: ['apt-get', '-y', '-q', '-o', 'Dpkg::Options::=--force-confold', h.vars.apt_upgrade === 'full' ? 'dist-upgrade' : 'upgrade'], env: { DEBIAN_FRONTEND: 'noninteractive' } }),
        }),
        task({ name: 'time zone link', op: (h) => ops.file({ path: '/etc/localtime', state: 'link', src: `/usr/share/zoneinfo/${h.vars.timezone}` }) }),
        task({ name: 'time zone name', op: (h) => ops.copy({ path: '/etc/timezone', content: `${h.vars.timezone}\n`, mode: '0644' }) }),
        task({
          name: 'sshd settings keep this run connected',
          op: (h) => {
            const { user } = connection(h.allVars);
            const allow = h.vars.sshd_allow_users;
            const problems = [
              allow.length > 0 && !allow.includes(user) ? `sshd_allow_users (${allow.join(', ')}) leaves out ${user}, the user this run connects as` : '',
              user === 'root' && h.vars.sshd_permit_root_login === 'no' ? 'sshd_permit_root_login is no but this run connects as root' : '',
            ].filter(Boolean);
            return ops.assert({ that: problems.length === 0, message: `refusing to harden sshd: ${problems.join('; ')}`, success: `${user} keeps access` });
          },
        }),
        task({
          name: 'sshd hardening',
          op: (h) => {
            const { port } = connection(h.allVars);
            const ports = [...new Set([port, h.vars.sshd_port])].map(String);
            return ops.system.sshdConfig({
              settings: {
                // Both ports while moving: this run keeps its port until the inventory says the new one.
                // None on DSM, whose Control Panel owns the port (checked at the role's start).
                ...(h.fact(facts.dsm).present ? {} : { Port: ports }),
                PermitRootLogin: h.vars.sshd_permit_root_login,
                PasswordAuthentication: h.vars.sshd_password_authentication ? 'yes' : 'no',
                ...(h.vars.sshd_allow_users.length ? { AllowUsers: h.vars.sshd_allow_users } : {}),
              },
            });
          },
        }),
        task({
          name: 'firewall',
          ...unlessDsm("DSM's firewall is set in Control Panel > Security", { when: (h) => h.vars.firewall_enabled, whenReason: 'firewall_enabled is false' }),
          op: (h) => {
            const { port } = connection(h.allVars);
            const swarm = SWARM_PORTS.map((r) => ({ ...r, from: h.vars.firewall_swarm_from }));
            const sshd = h.vars.sshd_port === port ? [] : [{ port: h.vars.sshd_port, proto: 'tcp' as const, comment: 'ssh (new port)' }];
            // Prometheus scrapes every node's exporter from the manager (roles/monitoring), from the cluster's networks;
            // on the manager itself it arrives from Docker's local bridge (docker_gwbridge, in Docker's 172.16.0.0/12 pools).
            const exporterPort = Number(h.allVars.monitoring_node_exporter_port ?? 9100);
            const exporter =
              h.allVars.monitoring_enabled === true
                ? [
                    { port: exporterPort, proto: 'tcp' as const, from: h.vars.firewall_swarm_from, comment: 'node-exporter for monitoring' },
                    // Only where Prometheus can run (its placement: a manager); the workers are reached over the LAN.
                    ...(h.vars.firewall_swarm_from === 'any' || !h.groups.includes('managers') ? [] : [{ port: exporterPort, proto: 'tcp' as const, from: '172.16.0.0/12', comment: 'node-exporter for Prometheus on this node' }]),
                  ]
                : [];
            // Encrypted overlays carry their VXLAN traffic in ESP (IP protocol 50, no ports): from each other swarm node.
            const esp =
              isSwarmNode(h.groups) && encryptedOverlays(h.allVars)
                ? otherSwarmNodes(h).map((n) => ({ proto: 'esp' as const, from: n.address, comment: `swarm overlay ESP from ${n.name}`.replace(/[^A-Za-z0-9 _.:/-]/g, '-').slice(0, 60) }))
                : [];
            return ops.firewall({ backend: h.vars.firewall_backend, sshPort: port, rules: [...sshd, ...swarm, ...esp, ...exporter, ...h.vars.published_ports] });
          },
        }),
      ],
    };
  },
});
