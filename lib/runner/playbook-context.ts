import type { Inventory } from '../inventory/inventory.ts';

// Here rather than in the cli that builds it, so the domains below the cli
// (lib/backup/hosts.ts picks its hosts from it) can name it.

/** What a playbook's plays may depend on besides the command line. */
export interface PlaybookContext {
  inventory: Inventory;
  /** A host's inventory variables with -e on top (no play or role defaults). */
  hostVars(host: string): Record<string, unknown>;
}
