// A role: typed defaults (a zod schema: a misspelt or mistyped variable in
// the inventory is refused, naming its file and line) and the tasks.
import { defineRole, ops, z } from 'rigger-ops';

export const motdDefaults = z.object({
  /** What users see when they log in. */
  motd_text: z.string().default('This host is managed by rigger.'),
  motd_path: z.string().default('/etc/motd'),
});

export const motd = defineRole({
  name: 'motd',
  defaults: motdDefaults,
  build: ({ task }) => ({
    tasks: [task({ name: 'message of the day', op: (h) => ops.copy({ path: h.vars.motd_path, content: `${h.vars.motd_text}\n`, mode: '0644' }) })],
  }),
});
