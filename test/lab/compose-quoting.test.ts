// The env files rigger writes for Compose (lib/ops/compose/env-file.ts) read
// back by Docker Compose itself (`docker compose config`, Debian trixie's
// Compose v2 on the layouts' core and edge hosts): every value must come out
// as it went in, both as the project's `.env` (interpolated into the compose
// file) and as an `env_file:` (a container's environment).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from '../../lib/shell/command.ts';
import { renderEnv } from '../../lib/ops/compose/env-file.ts';
import { CORE_EDGE_INVENTORY } from '../../scripts/lab/layout-inventory.ts';
import { ensureLab, lab } from '../helpers/lab.ts';
import { onNode } from '../helpers/node.ts';

const INV = CORE_EDGE_INVENTORY;
const HOSTS = ['core-vm', 'edge-vm'];
const DIR = '/root/compose-quoting';

/** Values that have broken env files: quotes, `$`, spaces, `#`, backslashes, newlines, and their mixes. */
const VALUES: Record<string, string> = {
  PLAIN: 'plain-1.0',
  EMPTY: '',
  SPACES: 'a b  c',
  PADDED: '  padded  ',
  TAB: 'a\tb',
  HASH_AFTER_SPACE: 'x # not a comment',
  HASH_FIRST: '#first',
  SINGLE_QUOTE: "it's",
  DOUBLE_QUOTES: 'say "hi"',
  BOTH_QUOTES: `'single' and "double"`,
  DOLLAR_VAR: '$HOME',
  DOLLAR_BRACES: '${PATH} and ${UNSET:-default}',
  DOLLAR_AND_QUOTE: "it's $HOME",
  DOLLARS: 'pa$$word$',
  BACKSLASH: 'back\\slash',
  BACKSLASH_N: 'not\\na newline',
  BACKSLASH_END: 'ends with \\',
  BACKSLASH_QUOTE: 'a\\"b\\\'c',
  NEWLINE: 'line one\nline two',
  NEWLINE_DOLLAR_QUOTE: "it's\n$HOME \\n",
  EQUALS: 'a=b=c',
  UNICODE: 'café ✓ 한글',
  EVERYTHING: ` '"$\\# x\t$$ {}\n`,
};

const COMPOSE = `services:
  probe:
    image: probe.invalid/none
    env_file: [probe.env]
    environment:
${Object.keys(VALUES)
  .map((k) => `      VIA_DOTENV_${k}: \${${k}}`)
  .join('\n')}
`;

before(async () => {
  ensureLab();
  const up = lab(['up', '--layouts']);
  assert.equal(up.code, 0, `lab up --layouts:\n${up.stdout}\n${up.stderr}`);
  // Compose as the core-edge playbook installs it (Debian's docker-cli and docker-compose); `config` needs no engine.
  for (const host of HOSTS) {
    const r = await onNode(INV, host, sh`command -v docker >/dev/null && docker compose version >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-cli docker-compose >/dev/null; }`);
    assert.equal(r.code, 0, `${host}: installing Compose:\n${r.stderr}`);
  }
});

for (const host of HOSTS) {
  test(`compose quoting on ${host}: docker compose config reads every value of rigger's env files as written, in .env and in env_file`, async () => {
    const env = renderEnv(VALUES).text;
    const r = await onNode(INV, host, sh`rm -rf ${DIR} && mkdir -p ${DIR} && cd ${DIR} && printf '%s' ${COMPOSE} > compose.yml && printf '%s' ${env} > .env && printf '%s' ${env} > probe.env
docker compose -p quoting config --format json`);
    assert.equal(r.code, 0, `docker compose config on ${host}:\n${r.stderr}\nthe env file:\n${env}`);
    const printed = (JSON.parse(r.stdout) as { services: { probe: { environment: Record<string, string | null> } } }).services.probe.environment;
    // `config` prints a compose file, where a literal $ is written $$: read back, each $$ is one $.
    const read = Object.fromEntries(Object.entries(printed).map(([k, v]) => [k, v?.replace(/\$\$/g, '$')]));
    const wrong: string[] = [];
    for (const [k, v] of Object.entries(VALUES)) {
      if (read[k] !== v) wrong.push(`env_file ${k}: wrote ${JSON.stringify(v)}, Compose read ${JSON.stringify(read[k])}`);
      if (read[`VIA_DOTENV_${k}`] !== v) wrong.push(`.env ${k}: wrote ${JSON.stringify(v)}, Compose read ${JSON.stringify(read[`VIA_DOTENV_${k}`])}`);
    }
    assert.deepEqual(wrong, [], `the env file as rigger wrote it:\n${env}`);
    await onNode(INV, host, sh`rm -rf ${DIR}`);
  });
}
