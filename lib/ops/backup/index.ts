export { takeSet } from './take-set.ts';
export { retention } from './retention.ts';
export type { RetentionResult } from './retention.ts';
export { sets } from './list.ts';
export { verifySet } from './verify.ts';
export type { SetVerdict } from './verify.ts';
export { offsiteCopy, RCLONE_CONFIG } from './offsite.ts';
export type { OffsiteResult } from './offsite.ts';
export { recordRun, notifyWebhook } from './record.ts';
