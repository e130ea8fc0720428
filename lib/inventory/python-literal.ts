/**
 * Ansible types an INI inventory's values with Python's ast.literal_eval:
 * `1` is an int, `0x1f` is 31, `True` a boolean, `[1, 2]` a list, `"a b"`
 * a string; anything that is not a Python literal (`yes`, `true`,
 * `/usr/bin/python3`) stays the text as written. This reads the same
 * literals. Tuples and sets become lists, as they do in Ansible's JSON.
 */
class NotLiteral extends Error {}

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && /[ \t\r\n\f\v]/.test(this.s[this.i]!)) this.i++;
  }

  peek(): string {
    this.ws();
    return this.s[this.i] ?? '';
  }

  eat(c: string): boolean {
    if (this.peek() !== c) return false;
    this.i++;
    return true;
  }

  value(): unknown {
    const c = this.peek();
    if (c === '[') return this.seq('[', ']');
    if (c === '(') return this.seq('(', ')');
    if (c === '{') return this.braces();
    if (c === '"' || c === "'" || (/[rRbBuU]/.test(c) && /['"]/.test(this.s[this.i + 1] ?? ''))) return this.strings();
    if (c === '-' || c === '+') {
      this.i++;
      const n = this.value();
      if (typeof n !== 'number') throw new NotLiteral();
      return c === '-' ? -n : n;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      const known: Record<string, unknown> = { True: true, False: false, None: null };
      if (word[0] in known) return known[word[0]];
      throw new NotLiteral();
    }
    return this.number();
  }

  number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+/.exec(rest) ??
      /^0[oO](?:_?[0-7])+/.exec(rest) ??
      /^0[bB](?:_?[01])+/.exec(rest) ??
      /^(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?/.exec(rest);
    const text = m?.[0] ?? '';
    if (text === '' || text === '.' || /^[eE]/.test(text)) throw new NotLiteral();
    // Python refuses leading zeros in decimal integers (017), except 0 itself.
    if (/^0\d/.test(text) && !/[.eE]/.test(text) && !/^0+$/.test(text.replace(/_/g, ''))) throw new NotLiteral();
    this.i += text.length;
    if (/[jJ]/.test(this.s[this.i] ?? '')) throw new NotLiteral();
    const clean = text.replace(/_/g, '');
    if (/^0[xXoObB]/.test(clean)) return Number(clean.toLowerCase());
    return Number(clean);
  }

  strings(): string {
    let out = '';
    // Adjacent string literals concatenate, as in Python.
    while (/['"rRbBuU]/.test(this.peek())) {
      let raw = false;
      while (/[rRbBuU]/.test(this.s[this.i]!)) raw ||= /[rR]/.test(this.s[this.i++]!);
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") throw new NotLiteral();
      const triple = this.s.startsWith(q.repeat(3), this.i);
      const end = triple ? q.repeat(3) : q;
      this.i += end.length;
      for (;;) {
        if (this.i >= this.s.length) throw new NotLiteral();
        if (this.s.startsWith(end, this.i)) {
          this.i += end.length;
          break;
        }
        const c = this.s[this.i++]!;
        if (c === '\n' && !triple) throw new NotLiteral();
        if (c !== '\\' || raw) {
          out += c;
          continue;
        }
        const e = this.s[this.i++] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
        if (e in simple) out += simple[e];
        else if (e === 'x' && /^[0-9a-fA-F]{2}/.test(this.s.slice(this.i, this.i + 2))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 2), 16));
          this.i += 2;
        } else out += '\\' + e;
      }
    }
    return out;
  }

  seq(open: string, close: string): unknown[] {
    this.eat(open);
    const items: unknown[] = [];
    while (!this.eat(close)) {
      items.push(this.value());
      if (!this.eat(',') && this.peek() !== close) throw new NotLiteral();
    }
    return items;
  }

  braces(): unknown {
    this.eat('{');
    if (this.eat('}')) return {};
    const first = this.value();
    if (this.eat(':')) {
      const out: Record<string, unknown> = {};
      let key = first;
      for (;;) {
        if (typeof key === 'object' && key !== null) throw new NotLiteral();
        out[String(key)] = this.value();
        if (this.eat('}')) return out;
        if (!this.eat(',')) throw new NotLiteral();
        if (this.eat('}')) return out;
        key = this.value();
        if (!this.eat(':')) throw new NotLiteral();
      }
    }
    const items = [first];
    while (this.eat(',')) {
      if (this.peek() === '}') break;
      items.push(this.value());
    }
    if (!this.eat('}')) throw new NotLiteral();
    return items;
  }
}

/** The value of a Python literal, or the text itself when it is not one. */
export function pythonLiteral(text: string): unknown {
  const r = new Reader(text);
  try {
    const v = r.value();
    r.ws();
    if (r.i !== text.length) return text;
    return v;
  } catch (err) {
    if (err instanceof NotLiteral) return text;
    throw err;
  }
}
