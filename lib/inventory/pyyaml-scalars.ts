import type { ScalarTag, Tags } from '../shell/yaml.ts';

/**
 * The types of plain YAML scalars as PyYAML's SafeLoader gives them, which
 * is how Ansible reads inventories and vars files (PyYAML lib/yaml/
 * resolver.py, the implicit resolvers of bool, float, int, null and
 * timestamp; constructor.py, construct_yaml_*). The yaml library's own
 * YAML 1.1 schema differs: it takes y/n as booleans, `0o17`, `08`, `1e3`
 * and `+.5` as numbers, `.` as NaN, and timestamps as Date objects.
 * Quoted scalars are strings in both; explicit tags (`!!int "42"`) use the
 * same rules.
 */

const TAG = (name: string) => `tag:yaml.org,2002:${name}`;

const nullTag: ScalarTag = {
  tag: TAG('null'),
  default: true,
  identify: (v) => v === null || v === undefined,
  test: /^(?:~|null|Null|NULL|)$/,
  resolve: () => null,
};

const boolTag: ScalarTag = {
  tag: TAG('bool'),
  default: true,
  identify: (v) => typeof v === 'boolean',
  test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  resolve: (s) => /^(?:yes|true|on)$/i.test(s),
};

/** Base 60 (`190:20:30`), each part a number: PyYAML's sexagesimal ints and floats. */
function sexagesimal(digits: string, parse: (part: string) => number): number {
  return digits.split(':').reduce((total, part) => total * 60 + parse(part), 0);
}

/** A signed value with its sign taken off first, as PyYAML's constructors do; -0 is 0, as Python's int. */
function signed(text: string, parse: (unsigned: string) => number): number {
  const clean = text.replace(/_/g, '');
  const negative = clean.startsWith('-');
  const value = parse(/^[-+]/.test(clean) ? clean.slice(1) : clean);
  return negative && value !== 0 ? -value : value;
}

const intTag: ScalarTag = {
  tag: TAG('int'),
  default: true,
  identify: (v) => typeof v === 'number' && Number.isInteger(v),
  test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  resolve: (text, onError) => {
    const value = signed(text, (s) => {
      if (s === '0') return 0;
      if (s.startsWith('0b')) return Number.parseInt(s.slice(2), 2);
      if (s.startsWith('0x')) return Number.parseInt(s.slice(2), 16);
      if (s.startsWith('0')) return Number.parseInt(s, 8);
      if (s.includes(':')) return sexagesimal(s, (p) => Number.parseInt(p, 10));
      return Number.parseInt(s, 10);
    });
    if (Number.isNaN(value)) onError(`invalid integer ${JSON.stringify(text)}`);
    return value;
  },
};

const floatTag: ScalarTag = {
  tag: TAG('float'),
  default: true,
  identify: (v) => typeof v === 'number',
  // A dot is required, and an exponent needs its sign: `1e3` and `1.0e3` are strings.
  test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  resolve: (text) =>
    signed(text.toLowerCase(), (s) => {
      if (s === '.inf') return Infinity;
      if (s === '.nan') return NaN;
      if (s.includes(':')) return sexagesimal(s, (p) => Number(p));
      return Number(s);
    }),
};

const TIMESTAMP =
  /^(?:([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A timestamp as the ISO 8601 text ansible-inventory prints for it (Python's
 * date/datetime isoformat()): rigger has no date type, and a JS Date would
 * lose the offset and the microseconds.
 */
function isoTimestamp(text: string, onError: (message: string) => void): string {
  const m = TIMESTAMP.exec(text)!;
  const [year, month, day] = (m[1] ? [m[1], m[2], m[3]] : [m[4], m[5], m[6]]).map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day) onError(`invalid date ${JSON.stringify(text)}`);
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (m[1]) return date;
  const [hour, minute, second] = [m[7], m[8], m[9]].map(Number) as [number, number, number];
  if (hour > 23 || minute > 59 || second > 59) onError(`invalid time ${JSON.stringify(text)}`);
  const micro = Number((m[10] ?? '').slice(0, 6).padEnd(6, '0'));
  let out = `${date}T${pad(hour)}:${pad(minute)}:${pad(second)}${micro !== 0 ? `.${pad(micro, 6)}` : ''}`;
  if (m[11] === 'Z') out += '+00:00';
  else if (m[12]) out += `${m[12]}${pad(Number(m[13]))}:${pad(Number(m[14] ?? 0))}`;
  return out;
}

const timestampTag: ScalarTag = {
  tag: TAG('timestamp'),
  default: true,
  identify: () => false,
  test: TIMESTAMP,
  resolve: isoTimestamp,
};

const REPLACED = new Set(['null', 'bool', 'int', 'float', 'timestamp'].map(TAG));

/** The yaml library's YAML 1.1 tags with its scalar resolvers replaced by PyYAML's. */
export function pyyamlTags(tags: Tags): Tags {
  return [nullTag, boolTag, intTag, floatTag, timestampTag, ...tags.filter((t) => typeof t === 'string' || !REPLACED.has(t.tag))];
}
