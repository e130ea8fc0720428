import { parse } from '../../shell/yaml.ts';
import { envEntries } from './env-file.ts';


/** The keys whose values differ between two env files' texts (added and removed keys too). */
export function changedKeys(before: string, after: string): string[] {
  const a = envEntries(before);
  const b = envEntries(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/**
 * The services of a compose file that a changed file concerns: those whose
 * definition names a changed ${VAR} of .env, or reads a changed env file
 * (env_file:). What --diff says before Compose decides which containers to
 * recreate; a change to compose.yml itself concerns Compose's own diff.
 */
export function affectedServices(composeText: string, changes: { envKeys: string[]; envFiles: string[] }): string[] {
  let doc: { services?: Record<string, unknown> };
  try {
    doc = (parse(composeText) ?? {}) as typeof doc;
  } catch {
    return [];
  }
  return Object.entries(doc.services ?? {})
    .filter(([, svc]) => {
      const text = JSON.stringify(svc);
      const files = ([] as unknown[]).concat((svc as { env_file?: unknown }).env_file ?? []).map((f) => (typeof f === 'string' ? f : String((f as { path?: string }).path ?? '')));
      // Compose substitutes both ${KEY} and bare $KEY.
      return changes.envKeys.some((k) => new RegExp(`\\$\\{?${k}(?![A-Za-z0-9_])`).test(text)) || files.some((f) => changes.envFiles.includes(f.replace(/^\.\//, '')));
    })
    .map(([name]) => name)
    .sort();
}
