import type { z } from '../shell/zod.ts';
import { callSite, type SourceLocation } from '../shell/location.ts';
import { builders, type Builders, type Handler, type Item } from './task.ts';

export type VarsSchema = z.ZodObject<any>;

export interface RoleContent {
  tasks: Item[];
  handlers?: Handler<any, any>[];
}

/**
 * A role: typed defaults (a zod object, so a misspelt variable is a compile
 * error in the role and a clear error naming the inventory line at run
 * time), tasks and handlers.
 */
export class Role<S extends VarsSchema = VarsSchema> {
  readonly tasks: Item[];
  readonly handlers: Handler<any, any>[];
  constructor(
    readonly name: string,
    readonly defaults: S,
    content: RoleContent,
    readonly location: SourceLocation | undefined,
    readonly tags: string[] = [],
  ) {
    this.tasks = content.tasks;
    this.handlers = content.handlers ?? [];
  }
}

export interface RoleDefinition<S extends VarsSchema> {
  name: string;
  defaults: S;
  /** Tags every task of the role carries, besides the role's name. */
  tags?: string[];
  build: (b: Builders<z.output<S>>) => RoleContent;
}

export function defineRole<S extends VarsSchema>(def: RoleDefinition<S>): Role<S> {
  const location = callSite();
  return new Role(def.name, def.defaults, def.build(builders<z.output<S>>()), location, def.tags ?? []);
}
