// The daily check's thresholds are inventory variables with the operators'
// monitor.sh values (../shared/operators/000, section 6.4: CPU 80 %, memory
// 85 % used, disk 85 %, load 5.0, GPU memory 90 %, unhealthy containers
// reported; certificates warn at 30 days). The node reading is the op's own
// probe run on this machine, so the parsers see real /proc and df output.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ops } from '../../lib/index.ts';
import { InputError } from '../../lib/shell/errors.ts';
import { loadInventories } from '../../lib/inventory/load.ts';
import { resolveHostVars, typedVars } from '../../lib/runner/host-vars.ts';
import { dailyCheckVars, thresholdsFrom } from '../../roles/daily-check.ts';
import type { Finding } from '../../lib/daily/findings.ts';

const mounted: string[] = [];
after(() => {
  for (const dir of mounted.reverse()) spawnSync('umount', [dir]);
});

const noVault = { vaultPassphrase: (): string => { throw new Error('no vault value here'); } };

/** The daily node reading's probe, run here as the runner runs it on a node (sh -c): real output of this machine. */
function probeHere(): string {
  const op = ops.daily.node({ host: 'here' });
  const out = execFileSync('sh', ['-c', op.probe!.command.bytes.toString('utf8')]);
  return op.probe!.parse({ code: 0, stdout: out, stderr: Buffer.alloc(0), durationMs: 0 }) as string;
}

/** That output decided by the op with these thresholds (one reading judged several ways: the machine moves between readings). */
function judge(text: string, thresholds: ReturnType<typeof thresholdsFrom>): Finding[] {
  const op = ops.daily.node({ host: 'here', thresholds });
  assert.deepEqual(op.problems, []);
  const d = op.decide(text);
  assert.equal(d.kind, 'ok');
  return (d as { result: Finding[] }).result;
}

async function typedFrom(yaml: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-daily-'));
  writeFileSync(path.join(dir, 'hosts.yml'), yaml);
  const inv = await loadInventories([path.join(dir, 'hosts.yml')], noVault);
  return typedVars(dailyCheckVars, resolveHostVars(inv, 'h1', new Map(), new Map()), 'daily check', 'h1');
}

test('the daily check\'s thresholds default to the operators\' monitor.sh values, and a bad value names the inventory line', async () => {
  const t = thresholdsFrom(await typedFrom('all:\n  hosts:\n    h1: {}\n'));
  assert.deepEqual(t, { diskWarn: 80, diskFail: 85, cpuWarnPercent: 80, memUsedWarnPercent: 85, loadWarn: 5, gpuMemWarnPercent: 90, certWarnDays: 30, backupMaxHours: 26 });
  const set = thresholdsFrom(await typedFrom('all:\n  vars:\n    daily_load_warn: 12.5\n    daily_memory_warn_percent: 70\n  hosts:\n    h1: {}\n'));
  assert.equal(set.loadWarn, 12.5);
  assert.equal(set.memUsedWarnPercent, 70);
  await assert.rejects(
    typedFrom('all:\n  hosts:\n    h1:\n      daily_memory_warn_percent: 185\n'),
    (err: unknown) => err instanceof InputError && /hosts\.yml:4:34: variable daily_memory_warn_percent of daily check for host h1/.test(err.message),
  );
  await assert.rejects(
    typedFrom('all:\n  hosts:\n    h1:\n      daily_disk_warn_percent: 90\n'),
    (err: unknown) => err instanceof InputError && /daily_disk_warn_percent.*(below|under).*daily_disk_fail_percent|daily_disk_fail_percent/.test(err.message),
    'a warning level above the failure level is refused',
  );
});

test('this machine\'s real memory, load and CPU readings are judged against the inventory\'s thresholds', async () => {
  const defaults = thresholdsFrom(await typedFrom('all:\n  hosts:\n    h1: {}\n'));
  const text = probeHere();
  const findings = judge(text, defaults);
  for (const area of ['disk', 'memory', 'load', 'cpu', 'containers', 'journal']) assert.ok(findings.some((f) => f.area === area), `${area} read: ${JSON.stringify(findings)}`);
  const area = (t: typeof defaults, name: string) => judge(text, t).find((f) => f.area === name)!;

  // Memory: the percentage used (total less available, as monitor.sh's `free` reads it), warned over the threshold.
  const kb = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(text)![1]);
  const used = (100 * (kb('MemTotal') - kb('MemAvailable'))) / kb('MemTotal');
  assert.match(area(defaults, 'memory').detail, new RegExp(`^${used.toFixed(1).replace('.', '\\.')}% used`));
  const below = area({ ...defaults, memUsedWarnPercent: Math.max(0, Math.floor(used) - 1) }, 'memory');
  assert.equal(below.level, 'warn', `${used.toFixed(1)} % used against a threshold under it: ${below.detail}`);
  assert.equal(area({ ...defaults, memUsedWarnPercent: Math.min(100, Math.ceil(used) + 1) }, 'memory').level, 'pass');

  // Load: the 1-minute load against an absolute limit (5.0 by default), not a multiple of the CPUs.
  const load1 = Number(/^@@load\n(\S+)/m.exec(text)![1]);
  assert.equal(area({ ...defaults, loadWarn: load1 + 1 }, 'load').level, 'pass');
  if (load1 > 0) assert.equal(area({ ...defaults, loadWarn: load1 / 2 }, 'load').level, 'warn');

  // CPU: busy share between the two /proc/stat samples; over a limit just under it warns, 100 % never does.
  const cpu = area({ ...defaults, cpuWarnPercent: 100 }, 'cpu');
  assert.equal(cpu.level, 'pass', cpu.detail);
  const busy = Number(/^([\d.]+)% busy/.exec(cpu.detail)![1]);
  if (busy > 1) assert.equal(area({ ...defaults, cpuWarnPercent: busy - 1 }, 'cpu').level, 'warn');
});

test('GPU memory over 90 % warns and an unhealthy container fails, from nvidia-smi\'s and docker ps\'s output', () => {
  // The shapes `nvidia-smi --query-gpu=index,memory.used,memory.total --format=csv,noheader,nounits` and
  // `docker ps --filter health=unhealthy --format '{{.Names}} {{.Status}}'` print (no GPU nor Docker on this machine).
  const op = (thresholds?: Parameters<typeof ops.daily.node>[0]['thresholds']) => ops.daily.node({ host: 'ai', ...(thresholds ? { thresholds } : {}) });
  const text = '@@gpu\n0, 7500, 8192\n1, 1000, 8192\n@@unhealthy\nai_sglang.1.x3k Up 5 minutes (unhealthy)\n';
  const f = (op().decide(text) as { result: Finding[] }).result;
  assert.equal(f.find((x) => x.subject === 'ai:gpu0')?.level, 'warn', JSON.stringify(f));
  assert.equal(f.find((x) => x.subject === 'ai:gpu1')?.level, 'pass');
  const sick = f.find((x) => x.area === 'containers' && x.level === 'fail');
  assert.match(sick?.detail ?? '', /ai_sglang\.1\.x3k.*unhealthy/);
  const none = (op().decide('@@gpu\n@@unhealthy\n') as { result: Finding[] }).result;
  assert.equal(none.find((x) => x.area === 'containers')?.level, 'pass');
  assert.equal(none.filter((x) => x.area === 'gpu').length, 0, 'no GPU, no GPU finding');
});

test('a real mount filled to 82-83 % warns under the defaults, fails when the inventory lowers the failure to 81 %, passes when it raises both', async () => {
  // A 4 MiB tmpfs on a scratch mount point (the tests run as root), filled by dd: df reports it as any mounted disk.
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rigger-daily-')), 'disk');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  mounted.push(dir);
  execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'fill')}`, 'bs=1K', 'count=3360'], { stdio: 'ignore' });
  const text = probeHere();
  const disk = async (yaml: string) => judge(text, thresholdsFrom(await typedFrom(yaml))).find((f) => f.subject === `here:${dir}`);
  const byDefault = await disk('all:\n  hosts:\n    h1: {}\n');
  // 3360 KiB of 4096 is 82.03 %: df rounds up, to 83 %.
  assert.match(byDefault?.detail ?? '', /^8[23]% used/, JSON.stringify(byDefault));
  assert.equal(byDefault?.level, 'warn');
  assert.equal((await disk('all:\n  vars:\n    daily_disk_warn_percent: 70\n    daily_disk_fail_percent: 81\n  hosts:\n    h1: {}\n'))?.level, 'fail');
  assert.equal((await disk('all:\n  vars:\n    daily_disk_warn_percent: 90\n    daily_disk_fail_percent: 95\n  hosts:\n    h1: {}\n'))?.level, 'pass');
});
