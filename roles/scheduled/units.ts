// The systemd units of a scheduled job: the service that runs the runner
// once, and the timer that starts it.
import { cronToOnCalendar } from 'rigger-ops/lib/backup/schedule';
import type { ScheduledJob } from 'rigger-ops/lib/scheduled/release';

/**
 * TimeoutStartSec bounds the run: a hung run would otherwise hold the
 * oneshot unit, and every later start of it, for ever. The runner stops the
 * playbook a minute before and reports it; ExecStopPost reports the timeout
 * when systemd had to stop the runner itself (SERVICE_RESULT=timeout).
 */
export const serviceUnit = (dir: string, job: ScheduledJob) => `# Managed by rigger (scheduled runner)
[Unit]
Description=rigger ${job.what} (scheduled)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory=${dir}/current
ExecStart=/usr/bin/env node --enable-source-maps run-job.mjs ${job.name}.json
TimeoutStartSec=${job.timeoutSeconds}s
ExecStopPost=/usr/bin/env node --enable-source-maps run-job.mjs --after-stop ${job.name}.json
`;

export const timerUnit = (job: ScheduledJob) => `# Managed by rigger (scheduled runner): ${job.schedule}
[Unit]
Description=rigger ${job.what} at ${job.schedule}

[Timer]
OnCalendar=${cronToOnCalendar(job.schedule)}
Persistent=true
Unit=${job.name}.service

[Install]
WantedBy=timers.target
`;
