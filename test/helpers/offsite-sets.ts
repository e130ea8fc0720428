import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Sets as the set script leaves them, for the off-site tests: a tar item
// (uncompressed, holding a file with a marker written into it, so an
// unencrypted copy shows the marker's bytes) and a dump item, and a manifest
// naming both with their sizes and checksums.

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function writeSet(dir: string, name: string, marker: string, host = 'data'): void {
  const set = path.join(dir, name);
  mkdirSync(path.join(set, 'src'), { recursive: true });
  writeFileSync(path.join(set, 'src', 'notes.txt'), `${marker}\n`.repeat(50));
  execFileSync('tar', ['-cf', path.join(set, 'volume-files.tar'), '-C', path.join(set, 'src'), 'notes.txt']);
  rmSync(path.join(set, 'src'), { recursive: true });
  writeFileSync(path.join(set, 'postgres-pg-vibedb.dump'), Buffer.from(`${name} dump\n`.repeat(40)));
  const items = [
    { name: 'volume-files', kind: 'volume', file: 'volume-files.tar', volume: 'files' },
    { name: 'postgres-pg-vibedb', kind: 'postgres', file: 'postgres-pg-vibedb.dump' },
  ].map((i) => {
    const body = readFileSync(path.join(set, i.file));
    return { ...i, bytes: body.length, sha256: sha256(body), check: 'fixture' };
  });
  const manifest = { format: 1, set: name, created: '2026-11-20T02:00:00+00:00', host, bytes: items.reduce((n, i) => n + i.bytes, 0), items };
  writeFileSync(path.join(set, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
}

/** Every file under a directory, recursively, relative to it. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(dir, f)).isFile()).sort();
}

/** Files under a directory whose bytes or path hold any of these texts. */
export function filesHolding(dir: string, texts: string[]): string[] {
  return filesUnder(dir).filter((f) => {
    const body = readFileSync(path.join(dir, f));
    return texts.some((t) => f.includes(t) || body.includes(Buffer.from(t)));
  });
}

/** Whether every item of a set directory has its manifest's checksum. */
export function setVerifies(dir: string): boolean {
  const m = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { items: { file: string; sha256: string }[] };
  return m.items.every((i) => existsSync(path.join(dir, i.file)) && sha256(readFileSync(path.join(dir, i.file))) === i.sha256);
}

/** Set directories (YYYYMMDD_HHMMSS) of a plain, unencrypted directory. */
export const setsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => /^\d{8}_\d{6}$/.test(n)).sort() : []);
