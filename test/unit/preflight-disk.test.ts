// Preflight's free-space check: 20 GB on `/`, except on DSM (the Synology
// NAS), whose system partition is a few GB by design and whose data lives on
// the data volume (/volume1): there the volume is checked. The facts are the
// real ones run on this machine (sh -c, as the runner runs them on a host),
// over a real tmpfs mounted on a scratch mount point (the tests run as root);
// only the DSM version file is given, as DSM writes it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { facts } from '../../lib/index.ts';
import type { Fact } from '../../lib/model/fact.ts';
import { parseDsmVersion } from '../../lib/facts/dsm.ts';
import { diskCheck } from '../../roles/preflight-disk.ts';
import { preflightVars } from '../../roles/preflight.ts';
import { scratchDir } from '../helpers/run.ts';

const mounted: string[] = [];
after(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', [dir]);
});

/** A 64 MiB tmpfs: a volume of a known size, as /volume1 is a file system of its own on DSM. */
function volume(): string {
  const dir = path.join(scratchDir(), 'volume1');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** A fact as the runner gathers it: its command by sh on the host (here), its parser on the output. */
function gather<F>(f: Fact<F>): F {
  const r = spawnSync('sh', ['-c', f.command.bytes.toString('utf8')]);
  return f.parse({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, durationMs: 0 });
}

// /etc.defaults/VERSION of DSM 7.2 (the file Synology's DSM keeps its version in; lib/facts/dsm.ts reads it).
const DSM_VERSION = 'majorversion="7"\nminorversion="2"\nproductversion="7.2.1"\nbuildnumber="69057"\nos_name="DSM"\n';

function host(vars: Record<string, unknown>, dsm: boolean) {
  return {
    vars: preflightVars.parse(vars),
    fact: <F>(f: Fact<F>): F => (f === (facts.dsm as Fact<unknown>) ? (dsm ? parseDsmVersion(DSM_VERSION) : gather(f)) : gather(f)) as F,
  };
}

test('on DSM preflight checks the data volume\'s free space, not the system partition\'s', () => {
  const dir = volume();
  const pass = diskCheck(host({ preflight_data_volume: dir, preflight_min_free_gb: 0.05 }, true));
  assert.equal(pass.level, 'pass', pass.detail);
  assert.match(pass.detail, new RegExp(`^0\\.1 GB free on ${dir} \\(DSM's data volume; need 0\\.05\\)$`));
  const fail = diskCheck(host({ preflight_data_volume: dir, preflight_min_free_gb: 20 }, true));
  assert.equal(fail.level, 'fail');
  assert.match(fail.detail, new RegExp(`GB free on ${dir} .*need 20`));
  // Filling the volume is seen: the check reads the volume itself, not / (which has far more than 64 MiB free).
  execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'fill')}`, 'bs=1M', 'count=40'], { stdio: 'ignore' });
  const filled = diskCheck(host({ preflight_data_volume: dir, preflight_min_free_gb: 0.05 }, true));
  assert.equal(filled.level, 'fail', filled.detail);
});

test('on any other host preflight checks /, whatever the data volume variable says', () => {
  const dir = volume();
  const min = 0.05;
  const r = diskCheck(host({ preflight_data_volume: dir, preflight_min_free_gb: min }, false));
  const root = gather(facts.freeDisk('/'));
  assert.match(r.detail, new RegExp(`^${(root.availableBytes / 1e9).toFixed(1)} GB free on / \\(need 0\\.05\\)$`));
  assert.equal(r.level, root.availableBytes / 1e9 >= min ? 'pass' : 'fail');
  assert.doesNotMatch(r.detail, /volume1/);
});
