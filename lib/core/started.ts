/**
 * When this controller process started, in whole seconds since the epoch.
 * Temp files and dirs of rigger's own names that are older than this were
 * left by an earlier, killed run: no command of this run outlives its script.
 */
export const PROCESS_STARTED_S = Math.floor(Date.now() / 1000);
