import { defineFact, defineOp, defineRole, ops, sh, type Decision, type HostContext, z } from 'rigger-ops';
import { backupVars } from 'rigger-ops/lib/backup/config';
import { cronToOnCalendar } from 'rigger-ops/lib/backup/schedule';

export const scheduleVars = z.object({
  /** The host whose variables hold the schedules (the first host with backup_items). */
  backup_source_host: z.string(),
  backup_schedule_state: z.enum(['present', 'absent']).default('present'),
});
type H = HostContext<z.output<typeof scheduleVars>>;

/** The timer host's init and clock: systemd or not, and its time zone (the schedule is its wall clock). */
export const schedulerFacts = defineFact(
  'scheduler',
  sh`if [ -d /run/systemd/system ]; then echo systemd; else echo cron; fi
tz=$(timedatectl show -p Timezone --value 2>/dev/null || cat /etc/timezone 2>/dev/null || true)
[ -n "$tz" ] || tz=UTC
echo "$tz"`,
  (r) => {
    const [init, tz] = r.stdout.toString('utf8').split('\n');
    return { systemd: init === 'systemd', timezone: tz?.trim() || 'UTC' };
  },
);

/** The backup source host's variables, validated: the schedule lives there, not on the timer host. */
export function sourceVars(h: H) {
  return backupVars.parse(h.hostVars(h.vars.backup_source_host));
}

export interface Job {
  /** Unit and cron.d names: rigger-backup, rigger-backup-offsite. */
  name: string;
  schedule: string;
  args: string;
  what: string;
}

export function jobsFor(h: H): Job[] {
  const v = sourceVars(h);
  const jobs: Job[] = [{ name: 'rigger-backup', schedule: v.backup_schedule, args: '--scheduled', what: 'backup set' }];
  if (v.backup_offsite) jobs.push({ name: 'rigger-backup-offsite', schedule: v.offsite_schedule, args: '--offsite --scheduled', what: 'off-site copy' });
  return jobs;
}

function commandLine(h: H, job: Job): string {
  const v = sourceVars(h);
  return `/usr/bin/env npx --no-install tsx playbooks/backup.ts -i ${v.backup_inventory} ${job.args}`;
}

function serviceUnit(h: H, job: Job): string {
  const v = sourceVars(h);
  return `# Managed by rigger (playbooks/backup.ts --install-schedule)
[Unit]
Description=rigger ${job.what}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory=${v.backup_rigger_dir}
ExecStart=${commandLine(h, job)}
`;
}

function timerUnit(job: Job): string {
  return `# Managed by rigger (playbooks/backup.ts --install-schedule): ${job.schedule}
[Unit]
Description=rigger ${job.what} at ${job.schedule}

[Timer]
OnCalendar=${cronToOnCalendar(job.schedule)}
Persistent=true
Unit=${job.name}.service

[Install]
WantedBy=timers.target
`;
}

export interface NextRuns {
  timezone: string;
  systemd: boolean;
  /** Job name -> systemd's NextElapseUSecRealtime, or the cron.d schedule. */
  next: Record<string, string>;
}

/** When the timer host will run each job, as systemd (or cron) will: read back for the report. */
const nextElapse = defineOp({
  kind: 'backup.next-run',
  schema: z.object({ names: z.array(z.string().regex(/^[a-z-]+$/)), systemd: z.boolean(), timezone: z.string() }).strict(),
  describe: (p) => p.names.join(', '),
  readOnly: true,
  probe: (p) => ({
    command: p.systemd
      ? sh`for n in ${p.names}; do printf '%s %s\n' "$n" "$(systemctl show -p NextElapseUSecRealtime --value "$n.timer" 2>/dev/null)"; done`
      : sh`for n in ${p.names}; do printf '%s %s\n' "$n" "$(grep -v '^#' /etc/cron.d/$n 2>/dev/null | grep -v = | cut -d' ' -f1-5)"; done`,
    parse: (r) => Object.fromEntries(r.stdout.toString('utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1).trim()])) as Record<string, string>,
  }),
  decide: (p, s: Record<string, string>): Decision<NextRuns> => ({ kind: 'ok', result: { timezone: p.timezone, systemd: p.systemd, next: s } }),
});

/** Whether the timer host has the rigger checkout the timer runs: a warning, not a failure (it may be deployed later). */
const checkout = defineOp({
  kind: 'backup.checkout',
  schema: z.object({ dir: z.string() }).strict(),
  describe: (p) => p.dir,
  readOnly: true,
  probe: (p) => ({ command: sh`[ -f ${`${p.dir}/playbooks/backup.ts`} ] && echo yes || echo no`, parse: (r) => r.stdout.toString('utf8').trim() === 'yes' }),
  decide: (p, found: boolean): Decision<{ found: boolean }> => ({
    kind: 'ok',
    result: { found },
    msg: found ? `${p.dir} holds rigger` : `warning: no rigger checkout at ${p.dir}: the timer fails until one is there (with node and npm ci)`,
  }),
});

/**
 * The backup's timers on the scheduler host: a systemd service and timer
 * per job (the nightly set; the weekly off-site copy when configured), or
 * /etc/cron.d entries where there is no systemd. Idempotent: a second
 * install changes nothing; backup_schedule_state absent removes them.
 */
export const backupSchedule = defineRole({
  name: 'backup-schedule',
  defaults: scheduleVars,
  build: ({ task }) => {
    const systemd = (h: H) => h.fact(schedulerFacts).systemd;
    const present = (h: H) => h.vars.backup_schedule_state === 'present';
    const names = ['rigger-backup', 'rigger-backup-offsite'];
    const wanted = (h: H, name: string) => present(h) && jobsFor(h).some((j) => j.name === name);
    const job = (h: H, name: string) => jobsFor(h).find((j) => j.name === name)!;
    return {
      tasks: [
        ...names.flatMap((name) => [
          task({
            name: `${name}.service`,
            when: systemd,
            whenReason: 'no systemd on this host: cron.d is used',
            op: (h) => (wanted(h, name) ? ops.systemd.unit({ name: `${name}.service`, content: serviceUnit(h, job(h, name)) }) : ops.systemd.unit({ name: `${name}.service`, state: 'absent' })),
          }),
          task({
            name: `${name}.timer`,
            when: systemd,
            whenReason: 'no systemd on this host: cron.d is used',
            op: (h) => (wanted(h, name) ? ops.systemd.unit({ name: `${name}.timer`, content: timerUnit(job(h, name)) }) : ops.systemd.unit({ name: `${name}.timer`, state: 'absent' })),
          }),
          task({
            name: `${name}.timer enabled`,
            when: (h) => systemd(h) && wanted(h, name),
            whenReason: (h) => (systemd(h) ? 'not scheduled' : 'no systemd on this host'),
            op: ops.systemd.service({ name: `${name}.timer`, state: 'started', enabled: true }),
          }),
          task({
            name: `cron.d ${name}`,
            when: (h) => !systemd(h),
            whenReason: 'systemd timers are used',
            op: (h) =>
              ops.cron({
                name,
                schedule: wanted(h, name) ? job(h, name).schedule : '@daily',
                command: wanted(h, name) ? `cd ${sourceVars(h).backup_rigger_dir} && ${commandLine(h, job(h, name))} >>/var/log/${name}.log 2>&1` : 'true',
                state: wanted(h, name) ? 'present' : 'absent',
              }),
          }),
        ]),
        task({
          name: 'next runs',
          when: present,
          whenReason: 'the schedule was removed',
          op: (h) => nextElapse({ names: jobsFor(h).map((j) => j.name), systemd: systemd(h), timezone: h.fact(schedulerFacts).timezone }),
        }),
        task({
          name: 'rigger checkout',
          when: present,
          whenReason: 'the schedule was removed',
          op: (h) => checkout({ dir: sourceVars(h).backup_rigger_dir }),
        }),
      ],
    };
  },
});
