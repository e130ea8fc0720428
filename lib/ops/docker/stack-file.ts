import { readFileSync } from 'node:fs';
import { parseDocument } from '../../shell/yaml.ts';
import { interpolate, parseCompose, type Compose } from './compose.ts';

export interface StackSource {
  /** The compose file's text, before interpolation; or give `file`. */
  compose?: string | undefined;
  /** A compose file on this machine (relative to the working directory). */
  file?: string | undefined;
  /** Values for ${VAR} in the compose file. */
  env: Readonly<Record<string, string>>;
  /** Image references replaced after interpolation (real -> substitute). */
  images: Readonly<Record<string, string>>;
}

/** A stack file as `docker stack deploy` is given it, or why it cannot be read, each problem with file:line:col. */
export type RenderedStack = { text: string; compose: Compose; problems?: undefined } | { problems: { param: 'file' | 'compose'; message: string }[] };

/**
 * Reads, interpolates, validates and maps the images of one stack file: the
 * one reading that the stack op deploys and that preflight and the stacks
 * role's order check look at, so all three see the same services and ports.
 */
export function renderStack(s: StackSource): RenderedStack {
  const source = s.file ?? 'compose';
  let text = s.compose;
  if (text === undefined) {
    if (!s.file) return { problems: [{ param: 'file', message: 'give the compose text or a file' }] };
    try {
      text = readFileSync(s.file, 'utf8');
    } catch (err) {
      return { problems: [{ param: 'file', message: `cannot read ${s.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }] };
    }
  }
  const interpolated = interpolate(text, s.env);
  const parsed = interpolated.problems.length ? { problems: interpolated.problems } : parseCompose(interpolated.text);
  if (!parsed.compose) return { problems: parsed.problems.map((pr) => ({ param: 'compose', message: `${source}:${pr.line}:${pr.col}: ${pr.message}` })) };
  return { text: withImages(interpolated.text, parsed.compose, s.images), compose: parsed.compose };
}

/** The compose text with each service's image looked up in `images` (the parsed compose is updated to match). */
function withImages(text: string, compose: Compose, images: Readonly<Record<string, string>>): string {
  const mapped = Object.entries(compose.services).filter(([, svc]) => svc.image in images);
  if (mapped.length === 0) return text;
  const doc = parseDocument(text);
  for (const [name, svc] of mapped) {
    svc.image = images[svc.image]!;
    doc.setIn(['services', name, 'image'], svc.image);
  }
  return doc.toString({ lineWidth: 0 });
}
