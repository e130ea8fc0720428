// `lab.ts rehearse --model-load SECONDS`: the SGLang stand-in's load is a
// property of its image (the spec in its STANDIN environment), so a shorter
// load is another image under another tag, pushed by rehearse and named by
// the inventory it writes; every other image stays the rehearsal's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { rehearsalInventoryText } from '../../scripts/lab/rehearsal.ts';
import { parseRehearseArgs } from '../../scripts/lab/rehearse-args.ts';
import { refOf } from '../../scripts/lab/services.ts';
import { REHEARSAL_SGLANG_LOAD_SECONDS, standinImages, type StandinOptions } from '../../scripts/lab/standins.ts';

const SGLANG = 'lmsysorg/sglang:v0.3.6-cu124';
const imagesOf = (options?: StandinOptions): Record<string, string> =>
  parse(rehearsalInventoryText(undefined, options), { customTags: [{ tag: '!vault', resolve: (s: string) => s }] }).all.vars.stack_images;

/** The load the stand-in behind `ref` is built with, read from the STANDIN spec in its Dockerfile. */
function loadOf(ref: string, options?: StandinOptions): number | undefined {
  const image = standinImages(options).find((i) => refOf(i) === ref);
  assert.ok(image, `${ref} is one of the images rehearse pushes`);
  const env = image.dockerfile.split('\n').find((l) => l.startsWith('ENV STANDIN='))!;
  return JSON.parse(JSON.parse(env.slice('ENV STANDIN='.length))).load?.seconds;
}

test('rehearse without --model-load names the stand-in that loads for the real 120 s', () => {
  assert.deepEqual(parseRehearseArgs([]), {});
  assert.equal(loadOf(imagesOf()[SGLANG]!), REHEARSAL_SGLANG_LOAD_SECONDS);
});

test('--model-load 10: the inventory names a stand-in built to load for 10 s, pushed by rehearse; every other image unchanged', () => {
  const options = parseRehearseArgs(['--model-load', '10']);
  assert.deepEqual(options, { modelLoadSeconds: 10 });
  const quick = imagesOf(options);
  const real = imagesOf();
  assert.notEqual(quick[SGLANG], real[SGLANG], 'another load is another image');
  assert.equal(loadOf(quick[SGLANG]!, options), 10);
  for (const [image, ref] of Object.entries(real)) if (image !== SGLANG) assert.equal(quick[image], ref, image);
});

test('--model-load refuses what is not whole seconds, and rehearse any other argument', () => {
  for (const bad of [['--model-load'], ['--model-load', '0'], ['--model-load', '-5'], ['--model-load', '1.5'], ['--model-load', 'ten']]) {
    assert.throws(() => parseRehearseArgs(bad), /--model-load takes whole seconds/, bad.join(' '));
  }
  assert.throws(() => parseRehearseArgs(['--existing-things']), /unknown argument --existing-things/);
});
