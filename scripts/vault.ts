// `npm run vault -- ...` from a checkout: the same code as `rigger vault`.
import { main } from '../lib/cli/commands/vault.ts';

process.exitCode = await main(process.argv.slice(2));
