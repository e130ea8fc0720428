import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * PostgreSQL's SCRAM-SHA-256 password verifier (RFC 5802/7677, as
 * pg_authid.rolpassword stores it). Computed here so that the plain
 * password never reaches the database host, and so that the stored
 * verifier tells whether the inventory's password changed without a login.
 * Passwords are used as given (PostgreSQL's SASLprep leaves ASCII alone).
 */
const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

function keys(password: string, salt: Buffer, iterations: number): { stored: Buffer; server: Buffer } {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return { stored: createHash('sha256').update(hmac(salted, 'Client Key')).digest(), server: hmac(salted, 'Server Key') };
}

export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const k = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${k.stored.toString('base64')}:${k.server.toString('base64')}`;
}

/** True when `verifier` (a rolpassword) was made from `password`; false for md5, empty or malformed values. */
export function verifierMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (!m) return false;
  const k = keys(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
  const stored = Buffer.from(m[3]!, 'base64');
  const server = Buffer.from(m[4]!, 'base64');
  return stored.length === k.stored.length && server.length === k.server.length && timingSafeEqual(stored, k.stored) && timingSafeEqual(server, k.server);
}
