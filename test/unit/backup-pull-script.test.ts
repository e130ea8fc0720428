import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tarLength, tarOutCommand } from '../../lib/backup/pull-script.ts';
import { parseCopyState } from '../../lib/backup/copy-state.ts';
import { StreamStdin, stdinChunks } from '../../lib/shell/stdin-source.ts';

test("tarLength is the exact length of the source's GNU tar stream (the transport frames stdin by it)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-tarlen-'));
  const files = [
    { name: 'volume-a.tar', bytes: 0 },
    { name: 'volume-b.tar', bytes: 1 },
    { name: 'volume-c.tar', bytes: 512 },
    { name: 'volume-d.tar', bytes: 513 },
    { name: 'postgres-x-y.dump', bytes: 123_457 },
    { name: 'manifest.json', bytes: 77 },
  ];
  for (const f of files) writeFileSync(path.join(dir, f.name), randomBytes(f.bytes));
  const out = execFileSync('sh', ['-c', tarOutCommand(dir, files.map((f) => f.name)).bytes.toString()], { maxBuffer: 1 << 24 });
  assert.equal(out.length, tarLength(files));
});

test('a name of 100 bytes or more (a GNU long-name header) is refused rather than miscounted', () => {
  assert.throws(() => tarLength([{ name: 'x'.repeat(100), bytes: 1 }]), /100 bytes or more/);
});

async function collect(parts: StreamStdin[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stdinChunks(parts)) out.push(c);
  return Buffer.concat(out);
}

async function* from(chunks: Buffer[], fail?: Error): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
  if (fail) throw fail;
}

test('a streamed stdin passes exactly its stated size; shorter, longer or failing sources throw', async () => {
  assert.equal((await collect([new StreamStdin(6, () => from([Buffer.from('abc'), Buffer.from('def')]), 'k')])).toString(), 'abcdef');
  await assert.rejects(collect([new StreamStdin(7, () => from([Buffer.from('abcdef')]), 'src')]), /src ended after 6 of its 7 bytes/);
  await assert.rejects(collect([new StreamStdin(5, () => from([Buffer.from('abcdef')]), 'src')]), /src sent more than the 5 bytes/);
  await assert.rejects(collect([new StreamStdin(6, () => from([Buffer.from('abc')], new Error('source host lost')), 'src')]), /source host lost/);
});

const read = (text: string) => ({ stdout: Buffer.from(text), stderr: Buffer.alloc(0), code: 0, durationMs: 0 });
const SET = '20261207_020000';
const sum = 'a'.repeat(64);
const manifest = Buffer.from(JSON.stringify({ format: 1, set: SET, created: '', host: 'h', bytes: 5, items: [{ name: 'volume-v', kind: 'volume', file: 'volume-v.tar', bytes: 5, sha256: sum, check: 'tar' }] })).toString('base64');

test('a copy is verified, missing, or damaged (a file missing, a size or a sha256 differing)', () => {
  assert.equal(parseCopyState(read('@@none\n'), SET, false).state, 'missing');
  const ok = `@@manifest\n${manifest}\n@@sizes\n5 volume-v.tar\n100 manifest.json\n`;
  assert.deepEqual(parseCopyState(read(ok), SET, false).state, 'verified');
  assert.match(parseCopyState(read(`@@manifest\n${manifest}\n@@sizes\n100 manifest.json\n`), SET, false).problem ?? '', /volume-v\.tar is missing/);
  assert.match(parseCopyState(read(`@@manifest\n${manifest}\n@@sizes\n4 volume-v.tar\n`), SET, false).problem ?? '', /4 bytes, the manifest says 5/);
  assert.equal(parseCopyState(read(`${ok}@@sha256\n${sum}  volume-v.tar\n`), SET, true).state, 'verified');
  const flipped = parseCopyState(read(`${ok}@@sha256\n${'b'.repeat(64)}  volume-v.tar\n`), SET, true);
  assert.equal(flipped.state, 'damaged');
  assert.equal(flipped.checked, 'sha256');
  assert.equal(parseCopyState(read(ok), '20261208_020000', false).state, 'damaged', 'a manifest naming another set');
});
