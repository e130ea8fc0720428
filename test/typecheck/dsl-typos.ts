// Compile-time tests, checked by `tsc --noEmit` in `npm test`: each line
// marked @ts-expect-error must be a type error. If the DSL ever stops
// catching one of these typos, tsc reports the directive as unused and the
// test run fails. This file is never executed.
import { z } from 'zod';
import { definePlay, defineRole, ops } from '../../lib/index.ts';

defineRole({
  name: 'typos',
  defaults: z.object({ docker_port: z.number().default(2375), packages: z.array(z.string()).default([]) }),
  build: ({ task, handler }) => {
    const restart = handler({ name: 'restart', op: ops.command({ argv: ['true'] }) });
    const read = task({ name: 'read', op: ops.command({ argv: ['cat', '/etc/hostname'], readOnly: true }) });
    return {
      handlers: [restart],
      tasks: [
        // @ts-expect-error: misspelt op parameter (pth for path)
        task({ name: 'a', op: ops.copy({ pth: '/x', content: '' }) }),
        // @ts-expect-error: misspelt role variable
        task({ name: 'b', op: (h) => ops.command({ argv: [String(h.vars.docker_prot)] }) }),
        // @ts-expect-error: a role variable used with the wrong type
        task({ name: 'c', op: (h) => ops.command({ argv: h.vars.docker_port }) }),
        // @ts-expect-error: registered results are typed: a command result has no `output`
        task({ name: 'd', op: (h) => ops.command({ argv: [h.result(read)!.output] }) }),
        // @ts-expect-error: a state that does not exist
        task({ name: 'e', op: ops.file({ path: '/x', state: 'present' }) }),
        // @ts-expect-error: a misspelt task option
        task({ name: 'f', op: ops.command({ argv: ['true'] }), notfy: [restart] }),
        task({ name: 'g', op: ops.command({ argv: ['true'] }), notify: [restart] }),
      ],
    };
  },
});

definePlay({
  name: 'p',
  hosts: 'all',
  schema: z.object({ greeting: z.string().default('hi') }),
  // @ts-expect-error: play schema variables are typed too
  tasks: ({ task }) => [task({ name: 'x', op: (h) => ops.command({ argv: [h.vars.greting] }) })],
});
