import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag, type Tags } from '../shell/yaml.ts';
import { InputError } from '../shell/errors.ts';
import { displayPath, type SourceLocation } from '../shell/location.ts';
import { decryptValue, VaultError } from '../shell/vault.ts';
import { pyyamlTags } from './pyyaml-scalars.ts';

/** The raw text of a `!vault` scalar until it is decrypted with the passphrase. */
export class VaultText {
  constructor(readonly text: string) {}
}

/**
 * A passphrase source that decrypts nothing: !vault values stay VaultText,
 * for showing an inventory as ansible-inventory does (ciphertext, not secrets).
 */
export const KEEP_VAULT_TEXT = (): string => {
  throw new Error('KEEP_VAULT_TEXT is a marker, not a passphrase');
};

const vaultTag: ScalarTag = {
  tag: '!vault',
  identify: (v) => v instanceof VaultText,
  resolve: (str) => new VaultText(str),
};

/**
 * The yaml library reports some errors at the newline that ends the line
 * before the offending one; move to the first visible character after it.
 */
function firstVisible(text: string, offset: number): number {
  if (text[offset] !== '\n' && text[offset] !== '\r') return offset;
  let i = offset;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i < text.length ? i : offset;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A parsed YAML file that can point at any of its nodes by line and column. */
export class YamlSource {
  readonly doc: Document;
  readonly file: string;
  readonly #lines = new LineCounter();

  constructor(
    file: string,
    text: string,
    private readonly passphrase: () => string,
  ) {
    this.file = displayPath(file);
    // As Ansible's loader: a text that is JSON is read as JSON (`1e3` is a
    // number there); anything else as YAML 1.1 with PyYAML's scalar types:
    // `no` is false, `0644` is octal 420, `y` and `n` are strings (pyyaml-scalars.ts).
    const types = isJson(text) ? { schema: 'json' as const } : { version: '1.1' as const, customTags: (tags: Tags) => [vaultTag, ...pyyamlTags(tags)] };
    this.doc = parseDocument(text, { ...types, lineCounter: this.#lines, uniqueKeys: true, prettyErrors: false });
    const first = this.doc.errors[0];
    if (first) {
      const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
      throw new InputError(this.at(firstVisible(text, first.pos[0])), `invalid YAML: ${message}`);
    }
    this.#checkAliases(this.doc.contents as Node | null);
  }

  /**
   * The yaml library reads an alias to an anchor that does not exist (or is
   * defined only below it) as null: `vars: *common` would load as no
   * variables at all, without a word.
   */
  #checkAliases(node: Node | null | undefined): void {
    if (!node) return;
    if (isAlias(node)) {
      if (node.resolve(this.doc) === undefined) this.fail(node, `alias *${node.source} refers to no anchor: define &${node.source} above it`);
      return;
    }
    if (isSeq(node)) for (const item of node.items) this.#checkAliases(item as Node);
    if (isMap(node)) {
      for (const pair of node.items) {
        this.#checkAliases(pair.key as Node);
        this.#checkAliases(pair.value as Node);
      }
    }
  }

  at(offset: number): SourceLocation {
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, col };
  }

  where(node: Node | null | undefined): SourceLocation {
    return this.at(node?.range?.[0] ?? 0);
  }

  fail(node: Node | null | undefined, detail: string): never {
    throw new InputError(this.where(node), detail);
  }

  /** The node's value as plain data, with vault values decrypted into Secrets. */
  value(node: Node | null | undefined): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.value(node.resolve(this.doc) as Node | undefined);
    if (isScalar(node)) {
      if (node.value instanceof VaultText) {
        if (this.passphrase === KEEP_VAULT_TEXT) return node.value;
        try {
          return decryptValue(node.value.text, this.passphrase());
        } catch (err) {
          if (err instanceof VaultError) this.fail(node, err.message);
          throw err;
        }
      }
      return node.value;
    }
    if (isSeq(node)) return node.items.map((item) => this.value(item as Node));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        out[key] = this.value(pair.value as Node);
      }
      return out;
    }
    return null;
  }
}
