import { Command, raw, sh } from '../../shell/command.ts';
import { FAILED_UPDATE_STATES } from './rollout/rollout.ts';
import { HEALTH_TIMING_AWK, VERDICT_DUE_AWK } from './health-window.ts';

/**
 * Waits until the named services run their desired replicas and no update
 * is in progress, on a manager. Exits 3 with the failure on stderr when an
 * update ends paused or rolled back (after an `update`), when a rollback
 * pauses (after a `rollback`), or at the deadline; for each failing service
 * it prints the tasks' errors and the last lines of the logs of the newest
 * task that failed.
 *
 * `services` (whose replicas are waited for) and `updated` (whose update
 * state is read: only a service this run changed, since Swarm keeps the
 * state of the last update, however old) are shell word lists.
 *
 * The deadline counts from the start of the wait, which an image pull may
 * fill; a service with a healthcheck is owed its window from its container's
 * start (health-window.ts). So at the deadline a service whose task Docker
 * started (before the deadline) and has not judged yet is waited for until
 * its verdict is due; a task that keeps failing its healthcheck is not
 * waited on again (VERDICT_DUE_AWK says why). A failure names each
 * service's window.
 */
export function convergeWait(services: Command, updated: Command, timeout: number, expect: 'update' | 'rollback' = 'update'): Command {
  const failed = expect === 'update' ? FAILED_UPDATE_STATES.join('|') : 'paused|rollback_paused';
  const pending = expect === 'update' ? 'updating' : 'rollback_started|updating';
  return sh`deadline=$(( $(date +%s) + ${timeout} ))
timing() { docker service inspect --format '{{with .Spec.TaskTemplate.ContainerSpec.Healthcheck}}{{json .StartPeriod}} {{json .Interval}} {{json .Timeout}} {{json .Retries}} {{json .Test}}{{end}}' "$1" 2>/dev/null | awk ${HEALTH_TIMING_AWK}; }
verdict_due() {
  v=$(timing "$1" | cut -d' ' -f2); [ -n "$v" ] || return 0
  for t in $(docker service ps -q --filter desired-state=running "$1" 2>/dev/null); do docker inspect --format '{{.Status.State}} {{.Status.Timestamp.Unix}}' "$t" 2>/dev/null; done |
    awk -v verdict="$v" -v deadline="$deadline" -v now="$(date +%s)" ${VERDICT_DUE_AWK}
}
explain() {
  for s in "$@"; do
    echo "$s: $(docker service ls --filter name=$s --format '{{.Replicas}}') replicas, update $(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}: {{.UpdateStatus.Message}}{{else}}none{{end}}' $s)"
    t=$(timing "$s"); [ -n "$t" ] && echo "  its health window: \${t% *} s from its container's start (Docker's verdict due by \${t#* } s)"
    docker service ps "$s" --no-trunc --format '  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' | head -4
    task=$(docker service ps "$s" --no-trunc --format '{{.ID}} {{.Error}}' | awk 'NF > 1 { print $1; exit }')
    [ -n "$task" ] && docker service logs --tail 5 --no-task-ids "$task" 2>&1 | sed 's/^/  log: /'
  done >&2
}
while :; do
  lagging= pending= failed=
  for s in ${services}; do
    reps=$(docker service ls --filter name=$s --format '{{.Name}} {{.Replicas}}' | awk -v s=$s '$1 == s { split($2, a, "/"); if (a[1] != a[2]) print "no" }')
    [ -n "$reps" ] && lagging="$lagging $s"
  done
  for s in ${updated}; do
    case "$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' $s 2>/dev/null)" in
      ${raw(failed)}) failed="$failed $s" ;;
      ${raw(pending)}) pending="$pending $s" ;;
    esac
  done
  if [ -n "$failed" ]; then echo "update failed:$failed" >&2; explain $failed; exit 3; fi
  [ -z "$lagging$pending" ] && exit 0
  if [ "$(date +%s)" -ge "$deadline" ]; then
    due=; for s in $lagging $pending; do [ -n "$(verdict_due "$s")" ] && due="$due $s"; done
    if [ -z "$due" ]; then echo "not converged within ${timeout} s (nor by Docker's health verdict on a task started before then):$lagging$pending" >&2; explain $lagging $pending; exit 3; fi
  fi
  sleep 1
done`;
}

/**
 * `docker service rollback` for each service, except one Swarm rolled back
 * itself (failure_action: rollback): rolling that back again would return
 * it to the failed spec. Then waits for them.
 */
export function rollbackServices(services: string[], timeout: number): Command {
  // A service still updating may yet be rolled back by Swarm itself (failure_action: rollback): asking for a
  // rollback at the same moment would flip it back to the failed spec, so each is left to settle first (bounded).
  return sh`settle=$(( $(date +%s) + ${timeout} ))
state() { docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$1"; }
for s in ${services}; do
  while case "$(state "$s")" in updating|rollback_started) [ "$(date +%s)" -lt "$settle" ] ;; *) false ;; esac; do sleep 1; done
  case "$(state "$s")" in
    rollback_started|rollback_completed) ;;
    *) docker service rollback --detach "$s" >/dev/null || echo "rollback of $s refused" >&2 ;;
  esac
done
${convergeWait(sh`${services}`, sh`${services}`, timeout, 'rollback')}`;
}
