// `rigger lab`: the local Docker lab. Its code (image build, nodes, registry)
// is a development tool of rigger's repository and is not in the package, so
// this runs the checkout's scripts/lab.ts when the current directory is one,
// and otherwise says what it needs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export async function main(args: string[]): Promise<number> {
  const script = 'scripts/lab.ts';
  const tsx = 'node_modules/.bin/tsx';
  if (!existsSync(script) || !existsSync(tsx)) {
    process.stderr.write(
      'rigger lab: the lab runs from a checkout of rigger\'s repository (it builds Debian node images with Docker and debootstrap);\n' +
        'clone it, run `npm install` there, then `npx rigger lab up` (or `npx tsx scripts/lab.ts up`) in that directory.\n',
    );
    return 4;
  }
  return spawnSync(tsx, [script, ...args], { stdio: 'inherit' }).status ?? 1;
}
