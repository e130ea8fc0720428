import type { VarsSchema } from './role.ts';

/** Where a list of tasks comes from: the play itself or one of its roles. */
export interface Scope {
  owner: string;
  schema: VarsSchema;
  tags: ReadonlySet<string>;
}

export const FLUSH_HANDLERS = Symbol('flush handlers');
