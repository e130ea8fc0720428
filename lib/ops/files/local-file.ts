import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FileStdin } from '../../shell/stdin-source.ts';

/** A controller file to send, with its checksums, read in chunks (never whole). */
export interface LocalFile {
  stdin: FileStdin;
  sha256: string;
  sha1: string;
}

const CHUNK = 1024 * 1024;

/**
 * Hashes a controller file 1 MiB at a time, so a copy's memory does not grow
 * with the file (a whole-file read also fails above 2 GiB). The transport
 * streams the same file later; if it changed in between, the host's
 * checksum of what arrived fails the write (put-files.ts).
 */
export function localFile(path: string): LocalFile {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file on the controller`);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      sha256.update(buf.subarray(0, n));
      sha1.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  const sum = sha256.digest('hex');
  return { stdin: new FileStdin(path, size, sum), sha256: sum, sha1: sha1.digest('hex') };
}
