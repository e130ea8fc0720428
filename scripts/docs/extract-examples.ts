// Pulls the TypeScript examples out of markdown: every fenced block whose
// info string is TypeScript's (ts, typescript, tsx, mts, cts, in any case:
// GitHub highlights them all as TypeScript, so a reader takes them for code
// that works) becomes one file, named after its markdown file and the line
// its code starts on, so a type error in it can be told back as
// `docs/page.md:LINE:COL`. A block fenced as ```ts no-check is a deliberate
// fragment: it is counted but not written (docs/testing.md says when that is
// fair).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Example {
  /** The markdown file, as given (relative to the root the checker ran in). */
  markdown: string;
  /** 1-based line of the block's first code line in the markdown file. */
  line: number;
  code: string;
  /** The file extension tsc needs for it: .tsx for a tsx block (JSX), .mts/.cts kept, else .ts. */
  extension: '.ts' | '.tsx' | '.mts' | '.cts';
  /** Fenced with `no-check`: a fragment, counted, never compiled. */
  noCheck: boolean;
}

const fenceOpen = /^(\s*)(`{3,}|~{3,})\s*(typescript|tsx|mts|cts|ts)\b(.*)$/i;

export function examplesIn(markdown: string, text: string): Example[] {
  const lines = text.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fenceOpen.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '```', language = 'ts', info = ''] = open;
    const lang = language.toLowerCase();
    const extension = lang === 'tsx' || lang === 'mts' || lang === 'cts' ? (`.${lang}` as const) : '.ts';
    const body: string[] = [];
    let j = i + 1;
    // The block ends at a closing fence of the same character, at least as long.
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    examples.push({ markdown, line: i + 2, code: body.join('\n') + '\n', extension, noCheck: /\bno-check\b/i.test(info) });
    i = j;
  }
  return examples;
}

/** The generated file's name: `docs/ops.md` line 40 -> `docs__ops.md__L40.ts`. */
export function exampleFileName(example: Example): string {
  return `${example.markdown.replaceAll('/', '__')}__L${example.line}${example.extension}`;
}

/** Writes one file per example to compile into outDir; returns their paths and how many no-check blocks were left out. */
export function writeExamples(root: string, markdownFiles: string[], outDir: string): { written: { path: string; example: Example }[]; noCheck: number } {
  mkdirSync(outDir, { recursive: true });
  // The examples are ES modules (top-level await, import), as a user's
  // playbooks are in a "type": "module" project, wherever outDir lives.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const written: { path: string; example: Example }[] = [];
  let noCheck = 0;
  for (const markdown of markdownFiles) {
    for (const example of examplesIn(markdown, readFileSync(join(root, markdown), 'utf8'))) {
      if (example.noCheck) {
        noCheck++;
        continue;
      }
      const path = join(outDir, exampleFileName(example));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, example.code);
      written.push({ path, example });
    }
  }
  return { written, noCheck };
}
