import { createCipheriv, createHmac } from 'node:crypto';

/**
 * rclone's config keeps an sftp password "obscured" (`rclone obscure`), not in
 * clear: AES-256-CTR under a key every rclone build carries, an IV in
 * front, base64url without padding. It hides a password from a glance, not
 * from anyone with rclone (`rclone reveal`); the inventory vaults the whole
 * config for that. Done here so that writing the rehearsal inventory needs no
 * rclone on this machine. rclone draws the IV at random; here it follows the
 * value, so every `rehearse` writes the same config and the NAS's rclone.conf
 * does not change from one rehearsal to the next.
 */
const RCLONE_OBSCURE_KEY = Buffer.from('9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638', 'hex');

export function rcloneObscure(plain: string): string {
  const iv = createHmac('sha256', 'rigger-lab rclone obscure iv').update(plain, 'utf8').digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', RCLONE_OBSCURE_KEY, iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64url');
}
