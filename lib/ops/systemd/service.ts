import { z } from '../../shell/zod.ts';
import { requireThat, sh, type Command } from '../../shell/command.ts';
import { defineOp, type Decision } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';

const name = z.string().regex(/^[A-Za-z0-9:_.@-]+$/, 'a unit name');

export interface UnitState {
  load: string;
  active: string;
  unitFile: string;
  needReload: boolean;
}

export function parseShow(text: string): UnitState {
  const kv = new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    load: kv.get('LoadState') ?? '',
    active: kv.get('ActiveState') ?? '',
    unitFile: kv.get('UnitFileState') ?? '',
    needReload: kv.get('NeedDaemonReload') === 'yes',
  };
}

const schema = z
  .object({
    name,
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((p) => p.state !== undefined || p.enabled !== undefined, { message: 'give state, enabled, or both', path: ['state'] });

export function decideService(p: z.output<typeof schema>, s: UnitState): Decision<UnitState> {
  if (s.load === 'not-found' || s.load === '') {
    // Nothing to stop or disable; anything else needs the unit, which a
    // package task before this one may install (check mode sees it missing).
    if (p.state !== 'started' && p.state !== 'restarted' && p.state !== 'reloaded' && p.enabled !== true) return { kind: 'ok', result: s };
    const todo = [p.state === 'reloaded' ? 'started' : p.state, p.enabled ? 'enabled' : undefined].filter(Boolean).join(', ');
    const after: UnitState = { ...s, load: 'loaded', active: p.state ? 'active' : s.active, unitFile: p.enabled ? 'enabled' : s.unitFile };
    return {
      kind: 'change',
      msg: `${p.name}: ${todo} (the unit is not installed yet)`,
      commands: [
        requireThat(sh`systemctl cat ${p.name}`, `unit ${p.name} is not known to systemd (install its package first)`),
        ...(p.state ? [sh`systemctl ${p.state === 'restarted' ? 'restart' : 'start'} ${p.name}`] : []),
        ...(p.enabled ? [sh`systemctl enable ${p.name}`] : []),
      ],
      result: () => after,
      checkResult: after,
    };
  }
  if (s.load === 'masked' && (p.state === 'started' || p.enabled)) return { kind: 'fail', reason: `unit ${p.name} is masked` };
  const commands: Command[] = [];
  const changes: string[] = [];
  // Reload only when systemd says a unit file changed under it.
  if (s.needReload) {
    commands.push(sh`systemctl daemon-reload`);
    changes.push('daemon-reload');
  }
  const active = s.active === 'active' || s.active === 'activating' || s.active === 'reloading';
  if (p.state === 'started' && !active) (commands.push(sh`systemctl start ${p.name}`), changes.push('start'));
  if (p.state === 'stopped' && active) (commands.push(sh`systemctl stop ${p.name}`), changes.push('stop'));
  if (p.state === 'restarted') (commands.push(sh`systemctl restart ${p.name}`), changes.push('restart'));
  if (p.state === 'reloaded') (commands.push(sh`systemctl ${active ? 'reload-or-restart' : 'start'} ${p.name}`), changes.push(active ? 'reload' : 'start'));
  const enabled = ['enabled', 'enabled-runtime', 'alias'].includes(s.unitFile);
  const enableable = !['static', 'indirect', 'generated', 'transient'].includes(s.unitFile);
  if (p.enabled === true && !enabled && enableable) (commands.push(sh`systemctl enable ${p.name}`), changes.push('enable'));
  if (p.enabled === false && enabled) (commands.push(sh`systemctl disable ${p.name}`), changes.push('disable'));
  const after: UnitState = {
    ...s,
    needReload: false,
    active: p.state === 'stopped' ? 'inactive' : p.state ? 'active' : s.active,
    unitFile: p.enabled === undefined ? s.unitFile : p.enabled ? 'enabled' : 'disabled',
  };
  if (commands.length === 0) return { kind: 'ok', result: s };
  return {
    kind: 'change',
    msg: `${p.name}: ${changes.join(', ')}`,
    diff: { kind: 'summary', lines: [`${p.name}: ${s.active}/${s.unitFile} -> ${after.active}/${after.unitFile}`] },
    commands,
    result: () => after,
    checkResult: after,
  };
}

/** A unit's run state and enablement; daemon-reload first when systemd reports changed unit files. */
export const service = defineOp({
  kind: 'systemd.service',
  schema,
  describe: (p) => `${p.name} ${p.state ?? ''}${p.enabled === undefined ? '' : p.enabled ? ' enabled' : ' disabled'}`,
  probe: (p) => ({
    command: sh`systemctl show ${p.name} -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload`,
    parse: (r: ExecResult) => parseShow(r.stdout.toString('utf8')),
  }),
  decide: decideService,
});
