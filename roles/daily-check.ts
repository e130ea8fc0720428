// The variables playbooks/daily-check.ts judges the nodes by, kept beside the
// roles so `rigger schema inventory` knows them as it knows every role's.
// The defaults are the operators' monitor.sh thresholds
// (../shared/operators/000, section 6.4: CPU_THRESHOLD 80, MEMORY_THRESHOLD
// 85, DISK_THRESHOLD 85, LOAD_THRESHOLD 5.0, GPU memory 90) and their
// certificate warning at 30 days.
import { z } from 'rigger-ops';
import { DEFAULT_THRESHOLDS as D, type Thresholds } from 'rigger-ops/lib/daily/findings';

const percent = (d: number) => z.number().min(0).max(100).default(d);

export const dailyCheckVars = z
  .object({
    /** HTTPS endpoints (HOST:PORT) whose certificates are read from the first manager; none by default. */
    daily_tls_endpoints: z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'HOST:PORT, e.g. git.example.org:443')).default([]),
    /** Disk use per mount: a warning from this percentage, */
    daily_disk_warn_percent: percent(D.diskWarn),
    /** and a failure from this one (monitor.sh's DISK_THRESHOLD). */
    daily_disk_fail_percent: percent(D.diskFail),
    /** CPU busy over a one-second sample: a warning over it. */
    daily_cpu_warn_percent: percent(D.cpuWarnPercent),
    /** Memory used (total less available): a warning over it. */
    daily_memory_warn_percent: percent(D.memUsedWarnPercent),
    /** The 1-minute load average, absolute (not per CPU): a warning over it. */
    daily_load_warn: z.number().positive().default(D.loadWarn),
    /** Each GPU's memory used (nvidia-smi): a warning over it. */
    daily_gpu_memory_warn_percent: percent(D.gpuMemWarnPercent),
    /** HTTPS certificates of daily_tls_endpoints: a warning under this many days left. */
    daily_cert_warn_days: z.number().int().nonnegative().default(D.certWarnDays),
    /** The newest verified backup set: a failure when older than this many hours. */
    daily_backup_max_hours: z.number().positive().default(D.backupMaxHours),
  })
  .refine((v) => v.daily_disk_warn_percent <= v.daily_disk_fail_percent, {
    path: ['daily_disk_warn_percent'],
    message: 'must not be above daily_disk_fail_percent (a warning comes before the failure)',
  });

/** The inventory's names to the daily readings' thresholds. */
export function thresholdsFrom(v: z.output<typeof dailyCheckVars>): Thresholds {
  return {
    diskWarn: v.daily_disk_warn_percent,
    diskFail: v.daily_disk_fail_percent,
    cpuWarnPercent: v.daily_cpu_warn_percent,
    memUsedWarnPercent: v.daily_memory_warn_percent,
    loadWarn: v.daily_load_warn,
    gpuMemWarnPercent: v.daily_gpu_memory_warn_percent,
    certWarnDays: v.daily_cert_warn_days,
    backupMaxHours: v.daily_backup_max_hours,
  };
}
