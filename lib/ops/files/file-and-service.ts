import { sh } from '../../shell/command.ts';
import type { Probe } from '../../model/op.ts';
import type { ExecResult } from '../../transport/types.ts';
import { parsePathState, pathStateScript, type PathState } from './path-state.ts';

/** A configuration file and the state of the service that reads it (Quadlet units, the Caddyfile). */
export interface FileAndService {
  file: PathState;
  /** `systemctl is-active`: active, inactive, failed, activating... */
  active: string;
}

export function fileAndServiceProbe(path: string, service: string): Probe<FileAndService> {
  return {
    command: sh`p=${path}
${pathStateScript(true)}
echo @@active; systemctl is-active ${service} 2>/dev/null || true`,
    parse: (r: ExecResult): FileAndService => {
      const [file = '', active = ''] = r.stdout.toString('utf8').split('@@active\n');
      return { file: parsePathState({ ...r, stdout: Buffer.from(file) }), active: active.trim() };
    },
  };
}
