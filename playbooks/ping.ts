// Checks that every host (or --limit) is reachable and can run a command:
// the equivalent of `ansible all -m ping`. Prints each host's OS and arch.
//   npx tsx playbooks/ping.ts [-i inventory] [--limit PATTERN]
import { definePlay, ops, runPlaybook } from 'rigger-ops';

await runPlaybook([
  definePlay({
    name: 'ping',
    hosts: 'all',
    tasks: ({ task }) => [
      task({
        name: 'reachable',
        op: ops.shell({ script: '. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-$(uname -s)} $(uname -m)"', readOnly: true }),
      }),
    ],
  }),
]);
