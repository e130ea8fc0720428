// What the rehearsal needs on the lab's nodes besides the inventory, made by
// `lab.ts rehearse` (on a reset lab as on a fresh one; a no-op where it is
// there): the operators' model on the NFS stand-in's share on the ai node,
// and the data node made a DSM stand-in. A user rehearses with the README's
// commands alone: `lab.ts reset`, `lab.ts rehearse`, `site.ts -i inventory/rehearsal.yml`.
import { readFileSync } from 'node:fs';
import { parse } from '../../lib/shell/yaml.ts';
import { NODES } from './config.ts';
import { dsmStandinScript } from './dsm-standin.ts';
import { exec } from './nodes.ts';
import { HOMELAB_INVENTORY, NFS_STANDIN_SOURCE } from './rehearsal.ts';

interface Homelab {
  all: { vars: { nfs_export_path: string; stacks: { name: string; env?: Record<string, string> }[] } };
}

/** The share DSM exports and the model SGLang loads, as the operators' inventory names them. */
export function rehearsalNeeds(text = readFileSync(HOMELAB_INVENTORY, 'utf8')): { share: string; modelDir: string } {
  // Its !vault values are not read here: no warning for their tag.
  const vars = (parse(text, { logLevel: 'error' }) as Homelab).all.vars;
  const model = vars.stacks.find((s) => s.env?.SGLANG_MODEL)?.env?.SGLANG_MODEL;
  if (!model) throw new Error(`${HOMELAB_INVENTORY}: no stack sets SGLANG_MODEL, the model the rehearsal's share must hold`);
  return { share: vars.nfs_export_path, modelDir: `${NFS_STANDIN_SOURCE}/${model}` };
}

export async function prepareRehearsalNodes(say: (s: string) => void): Promise<void> {
  const { share, modelDir } = rehearsalNeeds();
  const node = (name: string) => NODES.find((n) => n.name === name)!;
  for (const [name, what, script] of [
    ['ai', `model directory ${modelDir}`, `mkdir -p '${modelDir}'`],
    ['data', 'DSM stand-in', dsmStandinScript(share)],
  ] as const) {
    say(`${name}: ${what}`);
    const r = await exec(node(name), script);
    if (r.exitCode !== 0) throw new Error(`${name}: ${what} failed: ${r.stderr.trim()}`);
  }
}
