import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';

test('group_vars/ and host_vars/ beside the playbook are read, above those beside the inventory (Ansible precedence)', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'playbook-vars-'));
  const inv = path.join(root, 'inv');
  const play = path.join(root, 'play');
  for (const d of [`${inv}/group_vars`, `${inv}/host_vars`, `${play}/group_vars`, `${play}/host_vars`]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(inv, 'hosts.ini'), '[web]\nh1 from_inventory=ini\n\n[web:vars]\nlevel=ini-group\n');
  writeFileSync(path.join(inv, 'group_vars/all.yml'), 'level: inv-all\nsite: inv-all\n');
  writeFileSync(path.join(inv, 'group_vars/web.yml'), 'level: inv-web\n');
  writeFileSync(path.join(inv, 'host_vars/h1.yml'), 'host_level: inv-host\n');
  writeFileSync(path.join(play, 'group_vars/all.yml'), 'site: play-all\n');
  writeFileSync(path.join(play, 'group_vars/web.yml'), 'level: play-web\n');
  writeFileSync(path.join(play, 'group_vars/other_inventorys_group.yml'), 'x: 1\n');
  writeFileSync(path.join(play, 'host_vars/h1.yml'), 'host_level: play-host\n');
  const lib = path.resolve('lib/index.ts');
  writeFileSync(
    path.join(play, 'show.mts'),
    `import { runPlaybook } from ${JSON.stringify(lib)};\nawait runPlaybook((_o, ctx) => { console.log(JSON.stringify(ctx.hostVars('h1'))); return []; });\n`,
  );
  const r = await runCli([path.join(play, 'show.mts'), '-i', path.join(inv, 'hosts.ini')]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const vars = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
  assert.deepEqual(
    { level: vars.level, site: vars.site, host_level: vars.host_level, from_inventory: vars.from_inventory },
    { level: 'play-web', site: 'play-all', host_level: 'play-host', from_inventory: 'ini' },
  );
});
