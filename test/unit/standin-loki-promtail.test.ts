// The Loki and Promtail stand-ins (spec in scripts/lab/standins.ts, path_args in scripts/lab/standin.py) refuse to
// start, as Loki 3.3 and Promtail 3.3 do, when the file -config.file names cannot be read: the monitoring role
// writes both and the stack bind-mounts them, so a role that wrote none must fail the deploy in the lab too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { STANDINS } from '../../scripts/lab/standins.ts';
import { scratchDir } from '../helpers/run.ts';
import { onFreePort, refusal, stackService, startStandIn } from '../helpers/standin.ts';

/** The command line stacks/monitoring.yml gives the service, its config file's path moved into `dir`. */
function monitoringArgs(service: string, dir: string): { args: string[]; file: string } {
  const command = stackService('monitoring', service).command as string[];
  const flag = command.find((a) => a.startsWith('-config.file='));
  assert.ok(flag, `${service} is started with -config.file=`);
  const file = path.join(dir, path.basename(flag.slice('-config.file='.length)));
  return { args: command.map((a) => (a === flag ? `-config.file=${file}` : a)), file };
}

for (const [image, service] of [
  ['grafana/loki:3.3.0', 'loki'],
  ['grafana/promtail:3.3.0', 'promtail'],
] as const) {
  test(`${service} stand-in: refuses to start when its -config.file is missing, with the real error`, async () => {
    const dir = scratchDir();
    const { args, file } = monitoringArgs(service, dir);
    const { spec } = await onFreePort({ ...STANDINS[image]!, writes: [path.join(dir, 'data')] });
    const r = await refusal(startStandIn(spec, args, {}));
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`failed parsing config: Error reading config file: open ${file}: no such file or directory`), r.stderr);
  });

  test(`${service} stand-in: starts and answers /ready with the config file stacks/monitoring.yml names`, async (t) => {
    const dir = scratchDir();
    const { args, file } = monitoringArgs(service, dir);
    writeFileSync(file, 'server:\n  http_listen_port: 3100\n');
    const { spec, port } = await onFreePort({ ...STANDINS[image]!, writes: [path.join(dir, 'data')] });
    const s = startStandIn(spec, args, {});
    t.after(s.stop);
    await s.printed(/listening on/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
  });
}
