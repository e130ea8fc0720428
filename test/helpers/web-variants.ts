import { $ } from 'zx';
import { dockerBuild } from '../../scripts/lab/image.ts';
import { PUSH_REGISTRY, REGISTRY, serviceImageRefs } from '../../scripts/lab/services.ts';

$.verbose = false;

/**
 * Releases of the lab's web app for the day-two suite, built on this
 * machine's engine from the lab/web image and pushed to the lab registry
 * under tags of their own (no registry outside is reachable here):
 *   good        the same app with a release marker: another digest, healthy;
 *   bad-health  answers / but /health with 500;
 *   crash       exits at once, so its tasks never start (a paused update).
 */
const VARIANTS = {
  good: 'RUN echo good > /app/RELEASE',
  'bad-health': `RUN sed -i 's|ok = self.path in ("/", "/health")|ok = self.path == "/"|; s|self.send_response(200 if ok else 404)|self.send_response(200 if ok else 500)|' /app/server.py && grep -q 'send_response(200 if ok else 500)' /app/server.py`,
  crash: 'CMD ["sh", "-c", "echo crash variant: refusing to start >&2; exit 1"]',
} as const;

export type Variant = keyof typeof VARIANTS;

/** The lab's current web image as this machine's engine names it (the registry's port on loopback). */
const localBase = () => serviceImageRefs().web!.replace(REGISTRY, PUSH_REGISTRY);

/** Builds and pushes every variant; returns the references the nodes pull. */
export async function pushWebVariants(): Promise<Record<Variant, string>> {
  const base = localBase();
  if ((await $`docker image inspect ${base}`.nothrow().quiet()).exitCode !== 0) await $`docker pull -q ${base}`;
  const out = {} as Record<Variant, string>;
  for (const [name, line] of Object.entries(VARIANTS) as [Variant, string][]) {
    const tag = `${PUSH_REGISTRY}/lab/web:${name}`;
    await dockerBuild(tag, `FROM ${base}\n${line}\n`);
    await $`docker push -q ${tag}`;
    out[name] = `${REGISTRY}/lab/web:${name}`;
  }
  return out;
}
