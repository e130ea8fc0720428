import { LAYOUT_NODES, NODES } from './config.ts';

/**
 * What `lab.ts reset ARGS` is asked to do: the layouts' hosts (`--layouts
 * [NAME...]`), or Swarm nodes (`[--all] [NODE...]`: the named nodes, else all
 * four; `--all` wipes their backup volumes too, as a lost disk would be).
 */
export type ResetRequest = { kind: 'layouts'; names: string[] } | { kind: 'nodes'; names: string[]; wipeBackups: boolean };

/** Parses reset's arguments; an unknown flag or name is an Error naming what is accepted. */
export function parseResetArgs(args: readonly string[]): ResetRequest {
  const flags = args.filter((a) => a.startsWith('-'));
  const names = args.filter((a) => !a.startsWith('-'));
  const unknownFlag = flags.find((f) => f !== '--all' && f !== '--layouts');
  if (unknownFlag) throw new Error(`reset: unknown option ${unknownFlag} (reset [--all] [NODE...] or reset --layouts [NAME...])`);
  const layouts = flags.includes('--layouts');
  if (layouts && flags.includes('--all')) throw new Error('reset: --all is for the Swarm nodes (their backup volumes); the layouts\' hosts have none: reset --layouts [NAME...]');
  const known = (layouts ? LAYOUT_NODES : NODES).map((n) => n.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`reset: no ${layouts ? "layouts' host" : 'lab node'} named ${unknown.join(', ')} (${layouts ? 'reset --layouts takes' : 'the nodes:'} ${known.join(', ')})`);
  // Each named once, in the lab's order: the order asked in does not matter.
  const chosen = known.filter((n) => names.includes(n));
  if (layouts) return { kind: 'layouts', names: chosen };
  return { kind: 'nodes', names: chosen.length ? chosen : known, wipeBackups: flags.includes('--all') };
}
