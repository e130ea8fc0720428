export { chooseSet, findSet, localSource, promoteFetched } from './source.ts';
export type { FoundSet, RecoverySource, SourceOrigin } from './source.ts';
export { offsiteFetch } from './offsite-fetch.ts';
export type { FetchedSet } from './offsite-fetch.ts';
export { verifyForRecovery } from './verify.ts';
export type { RecoveryVerdict } from './verify.ts';
export { restoreDatabase, restoreVolume, restoreGitea, restoreConfig, postgresReady, dataInPlace, writeMarker } from './restore.ts';
export type { RestoredDatabase, RestoredVolume, DataFound } from './restore.ts';
export { recoverSwarm, swarmVerdict } from './swarm.ts';
