import { isIP } from 'node:net';

/** A DNS name: dot-separated labels of letters, digits, - and _ (Docker and mDNS names have _), none empty. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * Why a value cannot be a host's address (ansible_host, a jump host), or
 * undefined when it is an IP address or a host name. Checked where the
 * inventory says it, not when the connection fails.
 */
export function hostAddressProblem(value: string): string | undefined {
  if (isIP(value) !== 0) return undefined;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l))) return undefined;
  return `expected a host name or an IP address, got ${JSON.stringify(value)}`;
}
