import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * OpenSSH known_hosts, hand-written because no maintained JS library parses
 * all of it: plain and [host]:port patterns, wildcards and negation, hashed
 * |1|salt|hmac entries, @cert-authority and @revoked markers.
 */
export interface KnownHostEntry {
  marker?: 'cert-authority' | 'revoked';
  /** Comma-separated patterns, or a hashed name. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!.slice(1);
      if (m !== 'cert-authority' && m !== 'revoked') return;
      marker = m;
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) return;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) return;
    const entry: KnownHostEntry = { keyType, key, line: index + 1 };
    if (marker) entry.marker = marker;
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return h.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns ?? []) {
    const negated = p.startsWith('!');
    const pattern = negated ? p.slice(1) : p;
    if (globToRegExp(pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('ascii');
}

export type HostKeyMode = 'strict' | 'accept-new' | 'off';

export type HostKeyVerdict =
  | { ok: true; recorded?: boolean }
  | { ok: false; reason: string };

export class KnownHosts {
  constructor(readonly file: string) {}

  entries(): KnownHostEntry[] {
    if (!existsSync(this.file)) return [];
    return parseKnownHosts(readFileSync(this.file, 'utf8'));
  }

  /** Key types recorded for a host, so negotiation can prefer them (as OpenSSH does). */
  knownKeyTypes(host: string, port: number): string[] {
    const name = hostKeyName(host, port);
    return [...new Set(this.entries().filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType))];
  }

  verify(host: string, port: number, presented: Buffer, mode: HostKeyMode): HostKeyVerdict {
    if (mode === 'off') return { ok: true };
    const name = hostKeyName(host, port);
    const entries = this.entries().filter((e) => entryMatches(e, name));
    const presentedFp = fingerprint(presented);
    if (entries.some((e) => e.marker === 'revoked' && e.key.equals(presented))) {
      return { ok: false, reason: `host key ${presentedFp} for ${name} is marked @revoked in ${this.file}` };
    }
    const plain = entries.filter((e) => !e.marker);
    if (plain.some((e) => e.key.equals(presented))) return { ok: true };
    const sameType = plain.filter((e) => e.keyType === keyTypeOf(presented));
    if (plain.length > 0) {
      const expected = (sameType.length > 0 ? sameType : plain)
        .map((e) => `${fingerprint(e.key)} (${e.keyType}, ${this.file}:${e.line})`)
        .join(', ');
      return {
        ok: false,
        reason:
          `HOST KEY MISMATCH for ${name}: the host presented ${presentedFp} (${keyTypeOf(presented)}) ` +
          `but known_hosts expects ${expected}. Refusing to connect; if the host was rebuilt, remove the old ` +
          `entry with: ssh-keygen -R '${name}' -f ${this.file}`,
      };
    }
    if (mode === 'accept-new') {
      this.record(name, presented);
      return { ok: true, recorded: true };
    }
    return {
      ok: false,
      reason:
        `unknown host key for ${name} (${presentedFp}, ${keyTypeOf(presented)}); not in ${this.file}. ` +
        `Add it after checking the fingerprint, or run once with --host-key-checking accept-new`,
    };
  }

  private record(name: string, key: Buffer): void {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(this.file)) {
      const text = readFileSync(this.file, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
    }
    appendFileSync(this.file, `${prefix}${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
  }
}
