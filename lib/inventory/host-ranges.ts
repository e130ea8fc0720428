/**
 * Ansible's host ranges: `web[01:03]`, `node[a:c]`, `db[1:10:2]`.
 * Returns the expanded names, or an error text for a malformed range.
 */
export function expandHostRange(name: string): string[] | string {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(name);
  if (!m) {
    if (name.includes('[') || name.includes(']')) return `unbalanced brackets in host name ${JSON.stringify(name)}`;
    return [name];
  }
  const [, head, spec, tail] = m as unknown as [string, string, string, string];
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) return `a host range is [start:end] or [start:end:step], got [${spec}]`;
  const [start, end, stepText] = parts as [string, string, string | undefined];
  const step = stepText === undefined ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) return `the step of a host range must be a positive integer, got ${stepText}`;
  const rest = expandHostRange(tail);
  if (typeof rest === 'string') return rest;
  const values: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length;
    const from = Number(start);
    const to = Number(end);
    if (from > to) return `host range [${spec}] runs backwards`;
    if ((to - from) / step > 10_000) return `host range [${spec}] is larger than 10000 hosts`;
    for (let i = from; i <= to; i += step) values.push(String(i).padStart(width, '0'));
  } else if (/^[a-z]$/i.test(start) && /^[a-z]$/i.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (from > to) return `host range [${spec}] runs backwards`;
    for (let c = from; c <= to; c += step) values.push(String.fromCharCode(c));
  } else {
    return `host range [${spec}] must be numeric or single letters`;
  }
  return values.flatMap((v) => rest.map((r) => `${head}${v}${r}`));
}
