import { vendored } from './vendor.ts';
import type { z as zodNs } from 'zod';

/**
 * zod, loaded through require(). Under tsx every ES module file goes through
 * its loader hooks on another thread; zod's ESM build is about 60 files, so
 * `import 'zod'` costs about 190 ms at every start of every playbook, and its
 * CommonJS build through require() about 80 ms (measured on the lab's 2-core
 * VM, docs/benchmarks.md). Two copies of zod in one process (this one and a
 * user's own `import 'zod'`) work together by zod's design: instanceof goes
 * by traits and the registry and config live on globalThis. rigger's roles
 * and playbooks take `z` from lib/index.ts, so they load only this one.
 * The package loads it as one bundled file (see vendor.ts).
 */
export const z: typeof zodNs = vendored<{ z: typeof zodNs }>('zod').z;

/** The type side of `z` (z.output<S>, z.ZodType...), which a const alone cannot carry. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace z {
  export type output<T> = zodNs.output<T>;
  export type input<T> = zodNs.input<T>;
  export type infer<T> = zodNs.infer<T>;
  export type ZodType<Output = unknown, Input = unknown> = zodNs.ZodType<Output, Input>;
  export type ZodObject<Shape extends zodNs.ZodRawShape = zodNs.ZodRawShape> = zodNs.ZodObject<Shape>;
  export type ZodError<T = unknown> = zodNs.ZodError<T>;
  export type ZodRawShape = zodNs.ZodRawShape;
}
