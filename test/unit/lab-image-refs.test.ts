// The lab's image references come from one pair of functions (refOf for the
// nodes, pushRefOf for this machine's engine, scripts/lab/services.ts): every
// image a stack or inventory names is one the lab pushes, and every image built
// FROM another lab image names it as it was pushed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYOUT_IMAGE, LAYOUT_IMAGES } from '../../scripts/lab/layout-images.ts';
import { monitoringImageMap, monitoringImages } from '../../scripts/lab/monitoring-images.ts';
import { PUSH_REGISTRY, pushRefOf, refOf, REGISTRY, serviceImageRefs, type ServiceImage } from '../../scripts/lab/services.ts';
import { rehearsalImageMap, standinImages } from '../../scripts/lab/standins.ts';

test('every image built FROM a lab image names one pushed before it in the same list, under its push reference', () => {
  for (const [what, list] of [['monitoring', monitoringImages()], ['stand-ins', standinImages()], ['layouts', LAYOUT_IMAGES]] as [string, ServiceImage[]][]) {
    const fromLab = list.filter((img) => img.dockerfile.startsWith(`FROM ${PUSH_REGISTRY}/`));
    assert.ok(fromLab.length > 0, `${what}: some image is built on another`);
    for (const img of fromLab) {
      const base = img.dockerfile.split('\n')[0]!.slice('FROM '.length);
      const earlier = list.slice(0, list.indexOf(img)).map(pushRefOf);
      assert.ok(earlier.includes(base), `${what}: ${img.name} is built FROM ${base}, which is not pushed before it (${earlier.join(', ')})`);
    }
  }
});

test('every lab image the inventories and the rehearsal name is one the lab pushes, as the nodes reach the registry', () => {
  const pushed = new Set([...monitoringImages(), ...standinImages(), ...LAYOUT_IMAGES].map(refOf));
  const named = [...Object.values(monitoringImageMap()), ...Object.values(rehearsalImageMap()), refOf(LAYOUT_IMAGE)];
  const services = new Set(Object.values(serviceImageRefs()));
  for (const ref of named) {
    assert.ok(ref.startsWith(`${REGISTRY}/lab/`), `${ref} is in the lab registry as the nodes reach it`);
    assert.ok(pushed.has(ref) || services.has(ref), `${ref} is pushed by the lab`);
  }
  for (const img of LAYOUT_IMAGES) assert.equal(pushRefOf(img).replace(PUSH_REGISTRY, REGISTRY), refOf(img), `${img.name}: one name, two ways to the registry`);
});
