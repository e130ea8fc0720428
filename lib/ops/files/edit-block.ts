/**
 * A block of lines owned by rigger between two marker lines, as Ansible's
 * blockinfile: replaced in place when the markers exist, else inserted
 * after `insertAfter` / before `insertBefore` / at the end; removed with
 * its markers when absent.
 */
export interface BlockSpec {
  block: string;
  /** The marker template; {mark} becomes BEGIN or END. */
  marker: string;
  state: 'present' | 'absent';
  insertAfter?: string | undefined;
  insertBefore?: string | undefined;
}

export function editBlock(text: string, spec: BlockSpec): string {
  const begin = spec.marker.replace('{mark}', 'BEGIN');
  const end = spec.marker.replace('{mark}', 'END');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const b = lines.indexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b + 1) : -1;
  const body = spec.block === '' ? [] : spec.block.replace(/\n$/, '').split('\n');
  const wanted = spec.state === 'present' ? [begin, ...body, end] : [];
  let out: string[];
  if (b >= 0 && e >= 0) {
    out = [...lines.slice(0, b), ...wanted, ...lines.slice(e + 1)];
  } else if (spec.state === 'absent') {
    return text;
  } else {
    let at = lines.length;
    if (spec.insertBefore !== undefined) {
      const found = spec.insertBefore === 'BOF' ? 0 : lines.findIndex((l) => new RegExp(spec.insertBefore!).test(l));
      if (found >= 0) at = found;
    } else if (spec.insertAfter !== undefined && spec.insertAfter !== 'EOF') {
      let last = -1;
      lines.forEach((l, i) => {
        if (new RegExp(spec.insertAfter!).test(l)) last = i;
      });
      if (last >= 0) at = last + 1;
    }
    out = [...lines.slice(0, at), ...wanted, ...lines.slice(at)];
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}
