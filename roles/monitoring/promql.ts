import { parser } from '@prometheus-io/lezer-promql';

/**
 * Where a PromQL expression does not parse, or undefined when it does.
 * Prometheus's own grammar (the parser its web UI uses) runs here on the
 * controller, so a bad expression stops the run while the inventory is
 * checked, before any host is touched; promtool checks the whole files
 * again on the manager before they are written.
 */
export function promqlError(expr: string): string | undefined {
  let at: number | undefined;
  parser.parse(expr).iterate({
    enter: (n) => {
      if (at === undefined && n.type.isError) at = n.from;
    },
  });
  if (at === undefined) return undefined;
  const near = expr.slice(Math.max(0, at - 20), at + 20);
  return `not valid PromQL at character ${at + 1} (near "${near}")`;
}
