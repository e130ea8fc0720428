import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentVersion, secretAddArg, versionName, versionOf } from '../../lib/ops/docker/rollout/secret-versions.ts';
import { parseSecretState } from '../../lib/ops/docker/secret.ts';

test('versions: NAME is 1, NAME_vN is N, other secrets are not versions of it', () => {
  assert.equal(versionOf('db_pw', 'db_pw'), 1);
  assert.equal(versionOf('db_pw', 'db_pw_v12'), 12);
  assert.equal(versionOf('db_pw', 'db_pw_old'), undefined);
  assert.equal(versionOf('db_pw', 'other_db_pw_v2'), undefined);
  assert.equal(currentVersion('db_pw', ['db_pw', 'db_pw_v3', 'db_pw_v10', 'x']), 'db_pw_v10');
  assert.equal(currentVersion('db_pw', ['x']), undefined);
  assert.equal(versionName('db_pw', 1), 'db_pw');
  assert.equal(versionName('db_pw', 2), 'db_pw_v2');
});

test('the new version keeps the file name, owner and mode the service reads', () => {
  assert.equal(secretAddArg('db_pw_v2', { SecretName: 'db_pw', File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 0o444 } }), 'source=db_pw_v2,target=db_pw,uid=0,gid=0,mode=0444');
});

test('the probe names the versions with their labels and the services using any of them', () => {
  const spec = (name: string, secrets: string[]) => JSON.stringify({ Name: name, TaskTemplate: { ContainerSpec: { Secrets: secrets.map((s) => ({ SecretName: s, File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 292 } })) } } });
  const s = parseSecretState('db_pw', ['@@secret db_pw {"rigger.digest":"scrypt:a:b"}', '@@secret db_pw_v2 null', spec('app_db', ['db_pw_v2']), spec('app_web', ['other'])].join('\n'));
  assert.deepEqual(Object.keys(s.versions), ['db_pw', 'db_pw_v2']);
  assert.equal(s.versions.db_pw!['rigger.digest'], 'scrypt:a:b');
  assert.deepEqual(s.users.map((u) => `${u.service}:${u.ref.SecretName}`), ['app_db:db_pw_v2']);
  assert.equal(parseSecretState('db_pw', '@@noswarm\n').noSwarm, true);
});

test('item 5: a secret named like a version but not NAME_v<digits> is not a version, so the sweep never removes it', () => {
  const s = parseSecretState('db_pw', ['@@secret db_pw {}', '@@secret db_pw_v2 {}', '@@secret db_pw_v2_old {}', '@@secret db_pw_v3x {}'].join('\n'));
  assert.deepEqual(Object.keys(s.versions), ['db_pw', 'db_pw_v2']);
});
