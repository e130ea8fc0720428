// The single-server layout: Podman with Quadlet and Caddy on one host.
// PostgreSQL, Redis and MinIO run as Quadlet units under systemd (their
// .container files in layouts/single-server/quadlet), Caddy proxies each
// app's site to its live slot; releases are playbooks/release.ts's.
//   npx tsx playbooks/single-server.ts -i inventory/single-server.yml [--check] [--diff]
import { definePlay, runPlaybook } from 'rigger-ops';
import { singleServer } from '../roles/single-server/index.ts';

await runPlaybook([definePlay({ name: 'single server', hosts: 'single_server', roles: [singleServer] })]);
