import { Cron } from 'croner';

/**
 * Cron schedules to systemd OnCalendar expressions. Each field is expanded
 * to its values (ranges, steps, lists, names) and written back as a list,
 * or `*` when it covers the whole range, so every cron form maps without
 * guessing at systemd's range-with-step syntax. Cron fires when the
 * day-of-month OR the day-of-week matches if both are restricted; systemd
 * needs both: that form is refused instead of silently changing meaning.
 */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SYSTEMD_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The value names are numbered from (1 for months). */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function valueOf(text: string, f: FieldSpec): number {
  const i = f.names?.indexOf(text.toLowerCase()) ?? -1;
  const n = i >= 0 ? i + (f.nameBase ?? 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) throw new Error(`${f.name}: ${JSON.stringify(text)} is not in ${f.min}-${f.max}`);
  return n;
}

/** The sorted values a cron field matches, and whether it is unrestricted (`*`). */
export function expandField(text: string, f: FieldSpec): { values: number[]; star: boolean } {
  const out = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`${f.name}: cannot read ${JSON.stringify(part)}`);
    const step = m[2] ? Number(m[2]) : 1;
    if (step < 1) throw new Error(`${f.name}: a step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      [lo, hi] = [f.min, f.name === 'day of week' ? 6 : f.max];
      if (step === 1) star = true;
    } else if (m[1]!.includes('-')) {
      const [a, b] = m[1]!.split('-');
      [lo, hi] = [valueOf(a!, f), valueOf(b!, f)];
      if (lo > hi) throw new Error(`${f.name}: range ${m[1]} runs backwards`);
    } else {
      lo = valueOf(m[1]!, f);
      hi = m[2] ? (f.name === 'day of week' ? 6 : f.max) : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return { values: [...out].sort((a, b) => a - b), star };
}

function render(field: { values: number[]; star: boolean }, f: FieldSpec, pad: number): string {
  const full = f.name === 'day of week' ? 7 : f.max - f.min + 1;
  if (field.star || field.values.length === full) return '*';
  return field.values.map((v) => String(v).padStart(pad, '0')).join(',');
}

/** `0 2 * * *` -> `*-*-* 02:00:00`; `0 3 * * 0` -> `Sun *-*-* 03:00:00`. */
export function cronToOnCalendar(schedule: string): string {
  const expr = MACROS[schedule.trim()] ?? schedule.trim();
  if (expr.startsWith('@')) throw new Error(`${schedule} has no systemd timer equivalent`);
  const parts = expr.split(/\s+/);
  if (parts.length !== 5) throw new Error(`a cron schedule has five fields (m h dom mon dow), got ${JSON.stringify(schedule)}`);
  const [min, hour, dom, mon, dow] = parts.map((p, i) => expandField(p, FIELDS[i]!));
  const domStar = dom!.star || dom!.values.length === 31;
  const dowStar = dow!.star || dow!.values.length === 7;
  if (!domStar && !dowStar) {
    throw new Error(`${JSON.stringify(schedule)} restricts both the day of month and the day of week: cron runs when either matches, a systemd timer only when both do; split it into two schedules`);
  }
  const days = dowStar ? '' : `${dow!.values.map((d) => SYSTEMD_DAYS[d]).join(',')} `;
  return `${days}*-${render(mon!, FIELDS[3]!, 2)}-${render(dom!, FIELDS[2]!, 2)} ${render(hour!, FIELDS[1]!, 2)}:${render(min!, FIELDS[0]!, 2)}:00`;
}

/** The next runs of a schedule in a time zone, by croner. */
export function nextRuns(schedule: string, timezone: string | undefined, count: number, from = new Date()): Date[] {
  const cron = new Cron(MACROS[schedule.trim()] ?? schedule, { paused: true, ...(timezone ? { timezone } : {}) });
  return cron.nextRuns(count, from);
}

/** A date as the wall clock of a time zone reads it: 2026-11-23 02:00. */
export function wallClock(d: Date, timezone: string | undefined): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone ?? 'UTC',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}
