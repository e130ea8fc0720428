import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's chromium package. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium on a local file, with a fresh profile and everything that
 * would reach out (updates, sync, QUIC, background fetches) turned off.
 */
function headless(args: string[], file: string): string {
  const profile = mkdtempSync(path.join(tmpdir(), 'rigger-chromium-'));
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
    const r = spawnSync(CHROMIUM, [...flags, ...args, pathToFileURL(file).href], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new Error(`${CHROMIUM} did not start (${r.error.message}): the test command installs Debian's chromium package`);
    if (r.status !== 0) throw new Error(`chromium ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM as Chromium built it from the file. */
export const dumpDom = (file: string) => headless(['--dump-dom'], file);

/** A PNG of the page's first screen. */
export function screenshot(file: string, png: string, width = 1400, height = 1000): void {
  headless([`--screenshot=${path.resolve(png)}`, `--window-size=${width},${height}`, '--hide-scrollbars'], file);
}
