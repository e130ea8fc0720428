// Everything this project configures, in order. Idempotent: a second run
// reports changed=0.
//   npx rigger playbooks/site.ts [-i inventory/hosts.yml] [--check] [--diff] [--limit HOST] ...
import { definePlay, runPlaybook } from 'rigger-ops';
import { motd } from '../roles/motd/index.ts';

await runPlaybook([definePlay({ name: 'site', hosts: 'all', roles: [motd] })]);
