import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { offsiteConfig } from '../../lib/backup/config.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { sh } from '../../lib/shell/command.ts';
import { LAB_REMOTE } from '../../scripts/lab/config.ts';
import { HOMELAB_VAULT_PASSWORD, REHEARSAL_INVENTORY } from '../../scripts/lab/rehearsal.ts';
import { convergedRehearsal } from '../helpers/rehearsal.ts';
import { onNode } from '../helpers/node.ts';
import { scratchDir } from '../helpers/run.ts';

// The rehearsal's off-site path as far as the lab provides it (issue 30): the
// DSM stand-in, which has no apt, runs the rehearsal inventory's rclone image
// (backup_rclone_image, pulled from the lab registry) through its own Docker,
// with the inventory's vaulted rclone config, and writes to the lab remote
// (the stand-in for B2) over the lab network. What this machine's rclone then
// reads there is what the NAS wrote. No converge of its own.

let inv: string;
const DIR = '/tmp/rigger-lab-remote-test';
const PREFIX = `${LAB_REMOTE.name}:rigger/rehearsal-lab-remote-test`;
let image = '';
let localConfig = '';

before(async () => {
  inv = await convergedRehearsal();
});

after(async () => {
  if (localConfig) execFileSync('rclone', ['--config', localConfig, 'purge', PREFIX], { stdio: 'pipe' });
  // The rehearsal as it was: no test file or pulled image left on the NAS.
  if (inv) await onNode(inv, 'data', sh`rm -rf ${DIR}; ${image ? sh`docker image rm -f ${image} >/dev/null 2>&1;` : sh``} true`);
});

test("the DSM stand-in runs the inventory's rclone image with its rclone config and writes to the lab remote", async (t) => {
  const reh = await loadInventories([REHEARSAL_INVENTORY], { vaultPassphrase: () => HOMELAB_VAULT_PASSWORD });
  const vars = Object.fromEntries([...reh.varsFor('data.vibe.local')].map(([k, v]) => [k, v.value]));
  image = String(vars.backup_rclone_image);
  const config = offsiteConfig.parse(vars.backup_offsite).rclone_config!.reveal();
  localConfig = path.join(scratchDir(), 'rclone.conf');
  writeFileSync(localConfig, config, { mode: 0o600 });
  const marker = `written-by-the-nas-${randomUUID()}`;
  assert.notEqual((await onNode(inv, 'data', sh`command -v apt-get`)).code, 0, 'the NAS has no apt: rclone cannot come from a package there');
  const at = Date.now();
  const r = await onNode(
    inv,
    'data',
    sh`set -e
mkdir -p -m 700 ${DIR}
printf '%s' ${config} > ${DIR}/rclone.conf && chmod 600 ${DIR}/rclone.conf
printf '%s' ${marker} > ${DIR}/marker
docker pull -q ${image} >/dev/null
docker run --rm --network host --entrypoint rclone -v ${`${DIR}:${DIR}`} ${image} --config ${`${DIR}/rclone.conf`} copyto ${`${DIR}/marker`} ${`${PREFIX}/marker`}`,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  t.diagnostic(`pull of the rclone image and the copy from the NAS: ${((Date.now() - at) / 1000).toFixed(1)} s`);
  assert.equal(execFileSync('rclone', ['--config', localConfig, 'cat', `${PREFIX}/marker`], { encoding: 'utf8', stdio: 'pipe' }), marker);
});
