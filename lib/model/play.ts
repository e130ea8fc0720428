import { z } from '../shell/zod.ts';
import type { Fact } from './fact.ts';
import { callSite, type SourceLocation } from '../shell/location.ts';
import type { Role, VarsSchema } from './role.ts';
import { builders, type Builders, type Handler, type Item } from './task.ts';

export type Serial = number | `${number}%` | (number | `${number}%`)[];

export interface PlayOptions<S extends VarsSchema> {
  name: string;
  /** A host pattern: names, groups, globs, `a:b`, `a:&b`, `a:!b`. */
  hosts: string;
  /** Literal play variables, above inventory variables and below -e. */
  vars?: Record<string, unknown>;
  /** Types and defaults of the variables the play's own tasks use. */
  schema?: S;
  roles?: Role<any>[];
  tasks?: (b: Builders<z.output<S>>) => Item[];
  handlers?: Handler<any, any>[];
  /** Hosts per batch: a number, a percentage, or a list whose last entry repeats. */
  serial?: Serial;
  /** Abort the play when the failed share of a batch exceeds this percentage. */
  maxFailPercentage?: number;
  anyErrorsFatal?: boolean;
  /** A failed or unreachable host in this play ends the run: no later play starts (a recovery's verification). */
  haltOnFailure?: boolean;
  become?: boolean;
  becomeUser?: string;
  /** Run notified handlers even for hosts that failed later in the play. */
  forceHandlers?: boolean;
  /**
   * Default true: a change may carry the host-local file changes of the
   * tasks right after it in its round trip, each guarded by its probe
   * (runner/run-ahead.ts), so a host can be a few file tasks ahead of the
   * others. false keeps every host in lockstep, task by task.
   */
  runAhead?: boolean;
  /** Facts to read in the first round trip of every host. */
  facts?: Fact<unknown>[];
  tags?: string[];
}

export class Play {
  readonly tasks: Item[];
  readonly schema: VarsSchema;
  constructor(
    readonly options: PlayOptions<VarsSchema>,
    readonly location: SourceLocation | undefined,
  ) {
    this.schema = options.schema ?? z.object({}).loose();
    this.tasks = options.tasks ? options.tasks(builders()) : [];
  }
  get name(): string {
    return this.options.name;
  }
}

export function definePlay<S extends VarsSchema = z.ZodObject<{}>>(options: PlayOptions<S>): Play {
  return new Play(options as unknown as PlayOptions<VarsSchema>, callSite());
}
