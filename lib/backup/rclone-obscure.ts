import { createCipheriv, createHmac } from 'node:crypto';

/**
 * rclone's published key for "obscured" config values (rclone's
 * fs/config/obscure, documented as protection against a glance, not
 * encryption): AES-256-CTR with this fixed key.
 */
const OBSCURE_KEY = Buffer.from('9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638', 'hex');

/**
 * The value as `rclone obscure` writes it: base64url without padding of a
 * 16-byte IV followed by the AES-CTR ciphertext. Computed here, so the
 * controller needs no rclone and the value never reaches a command line.
 * rclone draws the IV at random; here it is derived from the value, so the
 * same key gives the same config file and a second run changes nothing
 * (an obscured value can be revealed by anyone with rclone either way).
 */
export function obscure(plain: string): string {
  const iv = createHmac('sha256', 'rigger rclone obscure iv').update(plain, 'utf8').digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', OBSCURE_KEY, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body]).toString('base64url');
}
