import { OpFailure, type Remote } from '../../lib/model/op.ts';
import type { Transport } from '../../lib/transport/types.ts';

/** A transport as an op or a strategy sees it (the runner's own adapter needs a run). */
export function remoteOf(t: Transport): Remote {
  return {
    run: (c) => t.exec(c),
    check: async (c) => {
      const r = await t.exec(c);
      if (r.code !== 0) throw new OpFailure(`${c.display()}: exit ${r.code}\n${r.stderr.toString('utf8')}`, r);
      return r;
    },
    stream: (c, sink) => t.exec(c, { stdoutTo: sink }),
  };
}
