// The floor: a bare ssh2 program that does the benchmark's work in one exec
// per host (the whole converge script, or one read of every item's state),
// over one connection per host, all hosts at once. Nothing can do less.
//   npx rigger scripts/bench/floor.ts cold|noop TASKS KEY KNOWN_HOSTS host=ip...
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { convergeScript, probeScript } from './workload.ts';

const [mode, tasks, key, knownHostsFile, ...targets] = process.argv.slice(2);
const known = new Map(readFileSync(knownHostsFile!, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [host, , b64] = l.split(' ');
  return [host!, Buffer.from(b64!, 'base64')];
}));
const privateKey = readFileSync(key!);

async function run(name: string, ip: string): Promise<void> {
  const script = mode === 'cold' ? convergeScript(Number(tasks), name) : probeScript(Number(tasks));
  await new Promise<void>((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => {
      c.setNoDelay(true);
      c.exec(script, (err, ch) => {
        if (err) return reject(err);
        ch.on('data', () => undefined);
        ch.stderr.on('data', () => undefined);
        ch.on('exit', (code: number) => {
          c.end();
          if (code === 0) resolve();
          else reject(new Error(`${name}: exit ${code}`));
        });
      });
    });
    c.on('error', reject);
    c.connect({ host: ip, port: 22, username: 'root', privateKey, hostVerifier: (k: Buffer) => known.get(ip)?.equals(k) === true });
  });
}

await Promise.all(targets.map((t) => {
  const [name, ip] = t.split('=');
  return run(name!, ip!);
}));
