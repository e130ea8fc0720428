/**
 * Variables of rigger's own environment that carry a secret or say where one
 * is: the vault passphrase (or its file), and the private directory of
 * secret files a command given `secretFiles` runs with (set when rigger
 * itself runs inside such a command). A local task is a program the
 * playbook runs, often a third-party one; it gets none of them.
 */
const RIGGER_SECRET_VARIABLES = ['RIGGER_VAULT_PASSWORD', 'RIGGER_VAULT_PASSWORD_FILE', 'RIGGER_SECRETS'] as const;

/** The controller's environment without rigger's secret-bearing variables, for a local task. */
export function localTaskEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of RIGGER_SECRET_VARIABLES) delete out[name];
  return out;
}
