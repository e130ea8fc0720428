import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileStdin, sh } from '../../lib/shell/command.ts';
import { Secret } from '../../lib/shell/secret.ts';
import { LocalTransport } from '../../lib/transport/local.ts';

const MiB = 1024 * 1024;

test('item 17: the local transport streams text, Secret and file parts in order, byte-equal', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-local-stream-'));
  const src = path.join(work, 'src');
  const bytes = randomBytes(9 * MiB + 5);
  writeFileSync(src, bytes);
  const out = path.join(work, 'out');
  const t = new LocalTransport('localhost');
  const r = await t.exec(sh`cat > ${out}`.withStdin('head\n', new Secret('pw-1'), new FileStdin(src, bytes.length, 'x'), 'tail'));
  assert.equal(r.code, 0, r.stderr.toString());
  assert.deepEqual(readFileSync(out), Buffer.concat([Buffer.from('head\npw-1'), bytes, Buffer.from('tail')]));
});

test('item 17: on the local transport a file shorter than announced fails naming it, and its command never acts', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'rigger-local-stream-'));
  const src = path.join(work, 'src');
  writeFileSync(src, randomBytes(2 * MiB));
  const acted = path.join(work, 'acted');
  const t = new LocalTransport('localhost');
  await assert.rejects(t.exec(sh`cat >/dev/null && touch ${acted}`.withStdin(new FileStdin(src, 3 * MiB, 'x'))), (e: Error) => e.message.includes(src));
  assert.equal(existsSync(acted), false);
});
