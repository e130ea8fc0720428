// The stacks of the inventory's `stacks` list read as the stacks role deploys
// them: one environment for ${VAR} and one reading (renderStack), shared by the
// role, the order check at inventory load, and preflight's port check.
import { renderStack, type RenderedStack } from 'rigger-ops/lib/ops/docker/stack-file';
import { appSettingsEnv, appSettingsVars } from './app-settings.ts';

export interface InventoryStack {
  name: string;
  file: string;
  env: Record<string, string>;
}

export interface StackModes {
  service_endpoint_mode: 'vip' | 'dnsrr';
  service_publish_mode: 'ingress' | 'host';
}

/**
 * The applications' public names from these variables; where one is missing
 * or bad, the operators' defaults (the stacks role's own typed variables name
 * a bad value with its inventory line; preflight and the order check only
 * need the files to render).
 */
function appEnv(v: object): Record<string, string> {
  const parsed = appSettingsVars.safeParse(v);
  return appSettingsEnv(parsed.success ? parsed.data : appSettingsVars.parse({}));
}

/**
 * What a stack's compose file is interpolated with: the swarm modes, the
 * applications' public names (app-settings.ts), then the stack's own env,
 * which wins.
 */
export const stackEnv = (v: StackModes, s: Pick<InventoryStack, 'env'>): Record<string, string> => ({
  ENDPOINT_MODE: v.service_endpoint_mode,
  PUBLISH_MODE: v.service_publish_mode,
  ...appEnv(v),
  ...s.env,
});

// Preflight reads the same stacks for every host: each file is read and parsed once per run for the
// same environment and image map, not once per host. A rendering is never changed by its readers.
const rendered = new Map<string, RenderedStack>();

/** One stack of the list, rendered as `docker stack deploy` receives it. */
export function readInventoryStack(v: StackModes, s: InventoryStack, images: Readonly<Record<string, string>>): RenderedStack {
  const env = stackEnv(v, s);
  const key = JSON.stringify([s.file, env, images]);
  let r = rendered.get(key);
  if (!r) rendered.set(key, (r = renderStack({ file: s.file, env, images })));
  return r;
}
