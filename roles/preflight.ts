// The variables playbooks/preflight.ts checks against, kept beside the roles
// so `rigger schema inventory` knows them as it knows every role's.
import { z } from 'rigger-ops';
import { stacksDefaults } from './stacks/index.ts';

export const preflightVars = stacksDefaults.pick({ stacks: true, stack_images: true, service_endpoint_mode: true, service_publish_mode: true }).extend({
  // The stacks' published ports are checked against each node's listeners (roles/preflight-ports.ts).
  preflight_min_docker: z.string().default('20.10.0'),
  preflight_min_free_gb: z.number().default(20),
  /** On DSM: the data volume whose free space is checked instead of / (DSM's system partition is small by design). */
  preflight_data_volume: z.string().startsWith('/').default('/volume1'),
  model_dir: z.string().optional(),
  nvidia_gpu: z.boolean().optional(),
  /** On a DSM host: the share that DSM must export over NFS (the data node's /volume1/ai-models). */
  nfs_export_path: z.string().optional(),
  /** On a DSM host: the port DSM's Control Panel must give sshd (the base role's sshd_port). */
  sshd_port: z.number().int().min(1).max(65535).optional(),
});
