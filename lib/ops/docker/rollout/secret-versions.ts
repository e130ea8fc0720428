/**
 * Versioned swarm secrets: a secret in use cannot be removed or changed, so
 * a new value becomes NAME_vN beside the old one, services are re-pointed,
 * and the versions nobody uses any more are removed. Pure helpers here.
 */

/** The version of `name` a secret is (NAME is 1, NAME_vN is N), or undefined for another secret. */
export function versionOf(name: string, secret: string): number | undefined {
  if (secret === name) return 1;
  const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}_v(\\d+)$`).exec(secret);
  return m ? Number(m[1]) : undefined;
}

export const versionName = (name: string, n: number) => (n === 1 ? name : `${name}_v${n}`);

/** The newest version of `name` among existing secrets, or undefined when there is none. */
export function currentVersion(name: string, secrets: string[]): string | undefined {
  const versions = secrets.map((s) => [s, versionOf(name, s)] as const).filter((v): v is readonly [string, number] => v[1] !== undefined);
  return versions.sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** A service's reference to a secret, as its spec holds it. */
export interface SecretRef {
  SecretName: string;
  File?: { Name: string; UID: string; GID: string; Mode: number };
}

/** `--secret-add` for the new version, keeping the file's target, owner and mode. */
export function secretAddArg(source: string, ref: SecretRef): string {
  const f = ref.File;
  return f ? `source=${source},target=${f.Name},uid=${f.UID},gid=${f.GID},mode=0${f.Mode.toString(8)}` : `source=${source}`;
}
