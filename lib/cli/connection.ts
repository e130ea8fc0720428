import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { InputError } from '../shell/errors.ts';
import { Secret } from '../shell/secret.ts';
import { KnownHosts, type HostKeyMode } from '../transport/known-hosts.ts';
import { LocalTransport } from '../transport/local.ts';
import { defaultSshOptions, SshTransport, type SshTarget } from '../transport/ssh.ts';
import type { Transport } from '../transport/types.ts';

/** The user@host:port of a ProxyJump spec. */
export function parseJump(spec: string, fallbackUser: string): { user: string; address: string; port: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new InputError('inventory', `cannot read ProxyJump ${JSON.stringify(spec)}: expected [user@]host[:port]`);
  return { user: m[1] ?? fallbackUser, address: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 22 };
}

function jumpSpec(vars: Record<string, unknown>): string | undefined {
  if (typeof vars.rigger_proxy_jump === 'string') return vars.rigger_proxy_jump;
  const args = `${vars.ansible_ssh_common_args ?? ''} ${vars.ansible_ssh_extra_args ?? ''}`;
  const m = /(?:-J\s+|ProxyJump[= ])([^\s'"]+)/.exec(args);
  return m?.[1];
}

function secretOf(v: unknown): Secret | undefined {
  if (v === undefined) return undefined;
  return v instanceof Secret ? v : new Secret(String(v));
}

export interface TransportSettings {
  hostKeyMode: HostKeyMode;
}

/** The user and port a host is reached with: ansible_user (else the local user) and ansible_port (else 22). */
export function sshLogin(vars: Readonly<Record<string, unknown>>): { user: string; port: number } {
  return { user: (vars.ansible_user as string | undefined) ?? userInfo().username, port: Number(vars.ansible_port ?? 22) };
}

/** Builds a host's transport from its connection variables (ansible_host, ansible_port, ...). */
export function transportFor(host: string, vars: Record<string, unknown>, settings: TransportSettings): Transport {
  const connection = vars.ansible_connection ?? (host === 'localhost' && vars.ansible_host === undefined ? 'local' : 'ssh');
  if (connection === 'local') return new LocalTransport(host);
  const { user, port } = sshLogin(vars);
  const knownHostsFile = path.resolve((vars.rigger_known_hosts_file as string | undefined) ?? path.join(homedir(), '.ssh', 'known_hosts'));
  const options = defaultSshOptions(knownHostsFile, settings.hostKeyMode);
  options.knownHosts = new KnownHosts(knownHostsFile);
  if (typeof vars.rigger_connect_timeout === 'number') options.connectTimeoutMs = vars.rigger_connect_timeout * 1000;
  const keyFile = vars.ansible_ssh_private_key_file as string | undefined;
  const target: SshTarget = {
    name: host,
    address: (vars.ansible_host as string | undefined) ?? host,
    port,
    user,
  };
  if (keyFile) target.privateKeyFile = path.resolve(keyFile.replace(/^~(?=\/)/, homedir()));
  const password = secretOf(vars.ansible_password ?? vars.ansible_ssh_pass);
  if (password) target.password = password;
  const jump = jumpSpec(vars);
  if (jump) {
    const j = parseJump(jump, user);
    target.jump = { name: `${host} (jump ${j.address})`, address: j.address, port: j.port, user: j.user };
    if (target.privateKeyFile) target.jump.privateKeyFile = target.privateKeyFile;
  }
  return new SshTransport(target, options);
}
