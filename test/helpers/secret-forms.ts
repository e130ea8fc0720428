import { createHash } from 'node:crypto';

/**
 * Every form of a marker that must never be printed, computed here on its
 * own (not with the library's list): the plain text, its JSON-, URL- and
 * HTML-escaped forms, its single-quoted shell form, hex, base64 as it appears inside a longer base64 text
 * at each of the three byte offsets, and its sha256, sha1 and md5 digests
 * (of the value, and of the value and a newline, as `echo | sha256sum` has it).
 */
export function markerForms(marker: string): string[] {
  const bytes = Buffer.from(marker);
  const html = marker.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const shellQuoted = marker.replace(/'/g, `'\\''`);
  const forms = [marker, JSON.stringify(marker).slice(1, -1), encodeURIComponent(marker), html, shellQuoted, bytes.toString('hex')];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Characters that depend only on the marker's own bytes.
    forms.push(b64.slice([0, 2, 3][shift], Math.floor((shift + bytes.length) / 3) * 4));
  }
  for (const alg of ['sha256', 'sha1', 'md5']) {
    for (const input of [bytes, Buffer.concat([bytes, Buffer.from('\n')])]) forms.push(createHash(alg).update(input).digest('hex'));
  }
  return forms;
}

/** The forms of any of the markers found in a text, with the marker each belongs to. */
export function leaks(text: string, markers: readonly string[]): string[] {
  return leakFinder(markers)(text);
}

/** {@link leaks} with the markers' forms computed once: for a text searched many times over (a process sampler). */
export function leakFinder(markers: readonly string[]): (text: string) => string[] {
  const forms = markers.flatMap((m) => markerForms(m).map((f) => ({ m, f })));
  return (text) => {
    const flat = text.replace(/\s+/g, '');
    return forms.filter(({ f }) => text.includes(f) || flat.includes(f)).map(({ m, f }) => `${m} as ${f}`);
  };
}
