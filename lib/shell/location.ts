import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Where something a user wrote lives: a file and a 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/** Paths are shown relative to the working directory so errors stay short and clickable. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

/** rigger's own lib/ directory: frames inside it are the library, not the user's code. */
const LIB_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url))) + path.sep;
const INTERNAL = /[\\/]node_modules[\\/]|^node:|<anonymous>/;

/**
 * The first stack frame outside the library: the line in the user's playbook
 * or role that declared a task or play. Captured at declaration time so that
 * run-time failures can point back at what the user wrote.
 */
export function callSite(): SourceLocation | undefined {
  return userFrame(new Error().stack ?? '');
}

/** The first frame of a stack that lies outside the library (the user's line), if any. */
export function userFrame(stack: string): SourceLocation | undefined {
  for (const frame of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(frame.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    // Only rigger's own lib/ is skipped: a user's project may well sit under a directory named lib.
    if (INTERNAL.test(file) || file.startsWith(LIB_DIR)) continue;
    return { file: displayPath(file), line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}
