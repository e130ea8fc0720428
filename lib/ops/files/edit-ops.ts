import { createHash } from 'node:crypto';
import { z } from '../../shell/zod.ts';
import { absolutePath, defineOp, fileMode } from '../../model/op.ts';
import { containsSecret, Secret } from '../../shell/secret.ts';
import { editBlock } from './edit-block.ts';
import { editLine } from './edit-line.ts';
import { jsonEqual, mergeJson, type Json } from './json-merge.ts';
import { pythonRegexProblem } from './python-regex.ts';
import { EDIT_LIMIT, pathStateProbe, type PathState } from './path-state.ts';
import { decideFileContent, type WriteOptions } from './write-file.ts';

const attrs = {
  mode: fileMode.optional(),
  owner: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  validate: z.string().includes('%s', { message: 'must contain %s for the file to check' }).optional(),
  /** Create the file, and its missing parent directories, when missing (else a missing file is an error for state present). */
  create: z.boolean().default(false),
  /** Keep a copy of the file as it was, beside it (PATH.DATE@TIME~), before changing it. */
  backup: z.boolean().default(false),
};

/** A regular expression in Python's syntax, as Ansible users write it (see python-regex.ts). */
const regex = z.string().superRefine((s, ctx) => {
  const problem = pythonRegexProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Reads the current text; a missing file is empty when it may be created. */
function currentText(path: string, state: PathState, create: boolean, needed: boolean): string | { fail: string } {
  if (!state.exists) return create || !needed ? '' : { fail: `${path} does not exist (set create: true to create it)` };
  if (state.type !== 'file') return { fail: `${path} is a ${state.type}, not a file` };
  if (state.content === undefined) return { fail: `${path} is larger than ${EDIT_LIMIT} bytes; rigger edits files up to that size` };
  return state.content.toString('utf8');
}

/** Line and block edits: read the text, transform it purely, write it back only when it differs. */
function decideEdit(
  p: { path: string; state: 'present' | 'absent'; create: boolean } & WriteOptions,
  state: PathState,
  transform: (text: string) => string,
  /** blockinfile fails on a missing file even for state absent (unless create); lineinfile does not. */
  absentNeedsFile = false,
) {
  const text = currentText(p.path, state, p.create, p.state === 'present' || absentNeedsFile);
  if (typeof text !== 'string') return { kind: 'fail' as const, reason: text.fail };
  if (!state.exists && p.state === 'absent') return { kind: 'ok' as const, result: { path: p.path, sha256: '' } };
  return decideFileContent(p.path, Buffer.from(transform(text), 'utf8'), state, { ...p, makeParents: p.create });
}

const lineSchema = z
  .object({
    path: absolutePath,
    line: z
      .string()
      .refine((l) => !l.includes('\n'), 'must be a single line: a line holding a newline is never found again, so Ansible adds it on every run; use ops.block for several lines')
      .optional(),
    regexp: regex.optional(),
    /** A literal text searched in each line (Ansible's search_string), instead of regexp. */
    searchString: z.string().optional(),
    /** Expand \\1, \\g<name> in line from the regexp's match; insert nothing when no line matches. */
    backrefs: z.boolean().default(false),
    state: z.enum(['present', 'absent']).default('present'),
    insertAfter: regex.optional(),
    insertBefore: regex.optional(),
    firstMatch: z.boolean().optional(),
    ...attrs,
  })
  .strict()
  .refine((p) => p.state === 'absent' || p.line !== undefined, { message: 'state present needs line', path: ['line'] })
  .refine((p) => p.state === 'present' || p.line !== undefined || p.regexp !== undefined || p.searchString !== undefined, { message: 'state absent needs line, regexp or searchString', path: ['regexp'] })
  .refine((p) => !(p.regexp !== undefined && p.searchString !== undefined), { message: 'give regexp or searchString, not both', path: ['searchString'] })
  .refine((p) => !p.backrefs || p.regexp !== undefined, { message: 'backrefs needs regexp (the groups it expands come from it)', path: ['backrefs'] })
  .refine((p) => !(p.insertAfter && p.insertBefore), { message: 'give insertAfter or insertBefore, not both', path: ['insertBefore'] });

/** One line in a file (Ansible's lineinfile). */
export const line = defineOp({
  kind: 'files.line',
  hostLocal: true,
  schema: lineSchema,
  describe: (p) => `${p.path}: ${p.line ?? p.regexp ?? p.searchString}`,
  probe: (p) => pathStateProbe(p.path, EDIT_LIMIT),
  decide: (p, state: PathState) => decideEdit(p, state, (text) => editLine(text, p)),
});

const blockSchema = z
  .object({
    path: absolutePath,
    block: z.string(),
    /** Marker lines around the block; {mark} becomes markerBegin or markerEnd. Use a distinct one per block in a file. */
    marker: z
      .string()
      .includes('{mark}', { message: 'must contain {mark}, e.g. "# {mark} MY BLOCK": without it BEGIN and END are the same line, the block is never found again and Ansible adds it on every run' })
      .default('# {mark} RIGGER MANAGED BLOCK'),
    markerBegin: z.string().min(1).default('BEGIN'),
    markerEnd: z.string().min(1).default('END'),
    state: z.enum(['present', 'absent']).default('present'),
    insertAfter: regex.optional(),
    insertBefore: regex.optional(),
    ...attrs,
  })
  .strict();

/** Lines between two markers that rigger owns (Ansible's blockinfile). */
export const block = defineOp({
  kind: 'files.block',
  hostLocal: true,
  schema: blockSchema,
  describe: (p) => `${p.path}: ${p.marker.replace('{mark}', '').trim()}`,
  probe: (p) => pathStateProbe(p.path, EDIT_LIMIT),
  decide: (p, state: PathState) => decideEdit(p, state, (text) => editBlock(text, p), true),
});

const jsonValue: z.ZodType<Json> = z.lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

const jsonSchema = z
  .object({ path: absolutePath, merge: z.record(z.string(), jsonValue), ...attrs, create: z.boolean().default(true) })
  .strict();

/** Keys merged into a JSON file, others kept; the file is rewritten only when a value really changes. */
export const jsonFile = defineOp({
  kind: 'files.json',
  hostLocal: true,
  schema: jsonSchema,
  describe: (p) => `${p.path}: ${Object.keys(p.merge).join(', ')}`,
  probe: (p) => pathStateProbe(p.path, EDIT_LIMIT),
  decide: (p, state: PathState) => {
    const text = currentText(p.path, state, p.create, true);
    if (typeof text !== 'string') return { kind: 'fail', reason: text.fail };
    let current: Json = {};
    if (text.trim() !== '') {
      try {
        current = JSON.parse(text) as Json;
      } catch (err) {
        return { kind: 'fail', reason: `${p.path} is not valid JSON (${(err as Error).message}); refusing to overwrite it` };
      }
    }
    const merged = mergeJson(current, p.merge);
    const result = { path: p.path, sha256: state.sha256 ?? '' };
    // Same values: leave the file's formatting alone (only attributes may differ).
    const content = state.exists && jsonEqual(current, merged) ? state.content! : Buffer.from(JSON.stringify(merged, null, 2) + '\n', 'utf8');
    const d = decideFileContent(p.path, content, state, { ...p, diff: { kind: 'json', path: p.path, before: current, after: merged } });
    return d.kind === 'ok' ? { ...d, result } : d;
  },
});

/** A template: a typed function from variables to the file's text. */
export interface Template<V> {
  readonly name: string;
  /** A Secret when the text holds one: build it with secret(`...${v.pw.reveal()}...`). */
  render(vars: V): string | Secret;
}

export function defineTemplate<V>(name: string, render: (vars: V) => string | Secret): Template<V> {
  return { name, render };
}

/**
 * A file rendered from a template and its variables; the variables' type is
 * the template's, so a missing or misspelt one is a compile error.
 */
export function template<V>(p: { path: string; template: Template<V>; vars: V; mode?: string; owner?: string; group?: string; validate?: string }) {
  let content: string | Secret;
  try {
    const text = p.template.render(p.vars);
    // Variables that hold a Secret make the whole file secret: written through
    // stdin, never read back, diffed or checksummed in a command line.
    content = typeof text === 'string' && containsSecret(p.vars) ? Secret.unlisted(text) : text;
  } catch (err) {
    content = '';
    return templateOp({ path: p.path, content, mode: p.mode, owner: p.owner, group: p.group, validate: p.validate, error: `template ${p.template.name}: ${(err as Error).message}` });
  }
  return templateOp({ path: p.path, content, mode: p.mode, owner: p.owner, group: p.group, validate: p.validate });
}

const templateOp = defineOp({
  kind: 'files.template',
  hostLocal: true,
  schema: z
    .object({
      path: absolutePath,
      content: z.union([z.string(), z.instanceof(Secret)]),
      error: z.string().optional(),
      mode: fileMode.optional(),
      owner: z.string().min(1).optional(),
      group: z.string().min(1).optional(),
      validate: z.string().includes('%s').optional(),
    })
    .strict(),
  describe: (p) => p.path,
  probe: (p) =>
    p.content instanceof Secret ? pathStateProbe(p.path, false) : pathStateProbe(p.path, true, p.error ? undefined : createHash('sha256').update(p.content, 'utf8').digest('hex')),
  decide: (p, state: PathState) => {
    if (p.error) return { kind: 'fail', reason: p.error };
    const secret = p.content instanceof Secret ? p.content : undefined;
    return decideFileContent(p.path, Buffer.from(secret ? secret.reveal() : (p.content as string), 'utf8'), state, { ...p, secret });
  },
});
