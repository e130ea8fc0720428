// Encrypts or decrypts one value for inventory files:
//   npm run vault -- encrypt            (reads the value from stdin, never from argv)
//   npm run vault -- decrypt 'VALUE'    (prints the plaintext; for checking only)
// The passphrase comes from --vault-password-file FILE or RIGGER_VAULT_PASSWORD.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { decryptValue, encryptValue, vaultPassphraseSource, VaultError } from '../lib/core/vault.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'vault-password-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const [command, arg] = positionals;
if (values.help || (command !== 'encrypt' && command !== 'decrypt')) {
  process.stdout.write(
    'Usage:\n  printf %s "$SECRET" | npm run vault -- encrypt [--vault-password-file F]\n' +
      '  npm run vault -- decrypt "$RIGGER_VAULT;1;..." [--vault-password-file F]\n' +
      'Paste the encrypted value into an inventory as:  db_password: !vault $RIGGER_VAULT;1;...\n',
  );
  process.exit(values.help ? 0 : 4);
}
try {
  const passphrase = vaultPassphraseSource(values['vault-password-file'])();
  if (command === 'encrypt') {
    // The value is read from stdin so it never shows in shell history or `ps`.
    const plaintext = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (plaintext === '') throw new VaultError('nothing to encrypt: pass the value on stdin');
    process.stdout.write(encryptValue(plaintext, passphrase) + '\n');
  } else {
    if (!arg) throw new VaultError('decrypt needs the encrypted value as argument');
    process.stdout.write(decryptValue(arg, passphrase).reveal() + '\n');
  }
} catch (err) {
  process.stderr.write(`vault: ${(err as Error).message}\n`);
  process.exit(4);
}
