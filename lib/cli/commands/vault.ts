// `rigger vault`: encrypts values for inventory files, and reads or re-keys
// the !vault values of a whole file. The passphrase comes from
// --vault-password-file FILE or RIGGER_VAULT_PASSWORD; never from argv.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decryptValue, encryptValue, vaultPassphraseSource, VaultError } from '../../shell/vault.ts';

export const VAULT_USAGE = `Usage:
  printf %s "$SECRET" | rigger vault encrypt [--vault-password-file F]
  rigger vault decrypt '$RIGGER_VAULT;1;...' [--vault-password-file F]
  rigger vault view FILE.yml [--vault-password-file F]     the file with every !vault value shown in clear
  rigger vault rekey FILE.yml --new-vault-password-file N [--vault-password-file F]
Paste an encrypted value into an inventory as:  db_password: !vault $RIGGER_VAULT;1;...
`;

/** A `!vault` tag followed by one value on the same line, quoted or not. */
const VAULT_VALUE = /!vault\s+(["']?)(\$RIGGER_VAULT;1;[A-Za-z0-9+/=;]+)\1/g;

/** Applies `fn` to every !vault value of a file's text; errors name file:line. */
function mapVaultValues(file: string, text: string, fn: (value: string) => string): string {
  return text.replace(VAULT_VALUE, (_m, _q: string, value: string, offset: number) => {
    try {
      return fn(value);
    } catch (err) {
      const line = text.slice(0, offset).split('\n').length;
      throw new VaultError(`${file}:${line}: ${(err as Error).message}`);
    }
  });
}

export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'vault-password-file': { type: 'string' }, 'new-vault-password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, arg] = positionals;
  if (values.help || !['encrypt', 'decrypt', 'view', 'rekey'].includes(command ?? '')) {
    process.stdout.write(VAULT_USAGE);
    return values.help ? 0 : 4;
  }
  try {
    const passphrase = vaultPassphraseSource(values['vault-password-file']);
    switch (command) {
      case 'encrypt': {
        // From stdin, so the value never shows in shell history or `ps`.
        const plaintext = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        if (plaintext === '') throw new VaultError('nothing to encrypt: pass the value on stdin');
        process.stdout.write(encryptValue(plaintext, passphrase()) + '\n');
        break;
      }
      case 'decrypt':
        if (!arg) throw new VaultError('decrypt needs the encrypted value as argument');
        process.stdout.write(decryptValue(arg, passphrase()).reveal() + '\n');
        break;
      case 'view': {
        if (!arg) throw new VaultError('view needs a file');
        process.stdout.write(mapVaultValues(arg, readFileSync(arg, 'utf8'), (v) => JSON.stringify(decryptValue(v, passphrase()).reveal())));
        break;
      }
      case 'rekey': {
        if (!arg) throw new VaultError('rekey needs a file');
        const next = values['new-vault-password-file'];
        if (!next) throw new VaultError('rekey needs --new-vault-password-file FILE');
        const newPassphrase = vaultPassphraseSource(next)();
        let count = 0;
        const text = mapVaultValues(arg, readFileSync(arg, 'utf8'), (v) => {
          count++;
          return `!vault ${encryptValue(decryptValue(v, passphrase()).reveal(), newPassphrase)}`;
        });
        // Every value is decrypted before the file is written: a wrong passphrase changes nothing.
        writeFileSync(arg, text);
        process.stderr.write(`${arg}: ${count} value${count === 1 ? '' : 's'} re-encrypted\n`);
        break;
      }
    }
    return 0;
  } catch (err) {
    process.stderr.write(`vault: ${(err as Error).message}\n`);
    return 4;
  }
}
