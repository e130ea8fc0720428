import { callSite } from '../shell/location.ts';
import type { Op } from './op.ts';
import { FLUSH_HANDLERS } from './scope.ts';
import { Task } from './task.ts';

/** Ansible's `meta: flush_handlers`: run the handlers notified so far, here. */
export function flushHandlers(): Task<undefined> {
  return new Task({ name: 'flush handlers', op: FLUSH_HANDLERS as unknown as Op<undefined> }, callSite());
}
