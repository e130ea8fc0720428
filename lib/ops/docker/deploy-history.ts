import { z } from '../../shell/zod.ts';
import { sh } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { HISTORY_FILE } from './rollout/deploy-lock.ts';
import { parseHistory, type DeployRecord } from './rollout/rollout.ts';

/** The deploy run log on the first manager (who deployed what, when, how it ended); read-only. */
export const deployHistory = defineOp({
  kind: 'docker.deployHistory',
  schema: z.object({}).strict(),
  describe: () => 'deploy history',
  readOnly: true,
  probe: () => ({ command: sh`cat ${HISTORY_FILE} 2>/dev/null || true`, parse: (r: ExecResult) => parseHistory(r.stdout.toString('utf8')) }),
  decide: (_p, records: DeployRecord[]): Decision<DeployRecord[]> => ({ kind: 'ok', result: records, msg: `${records.length} recorded runs` }),
});
