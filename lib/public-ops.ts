// The `ops` namespace of the package (`import { ops } from 'rigger-ops'`):
// the general-purpose ops of lib/ops/, and the read-only checks two domains
// add to it (ops.monitoring, ops.daily). It is put together here, at the top,
// because lib/ops/ sits below the domains and may not import them.
// The backup and recovery steps stay out: their playbooks import them from
// lib/backup/ops and lib/recovery/ops, so no other playbook loads them.
export * from './ops/index.ts';
export * as monitoring from './monitoring/ops/index.ts';
export * as daily from './daily/ops/checks.ts';
