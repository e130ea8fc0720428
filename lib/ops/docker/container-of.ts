/**
 * `container_of SERVICE`: prints the first running container of a swarm
 * service (or a container of that name) on this host, or fails. POSIX sh,
 * so the probes (sh) and the backup and restore scripts (bash) share it:
 * the backup, its readiness probe and a recovery all find the database the
 * same way.
 */
export const CONTAINER_OF = String.raw`container_of() {
  _ids=$(docker ps -q --filter "label=com.docker.swarm.service.name=$1" --filter status=running 2>/dev/null) || return 1
  if [ -z "$_ids" ]; then _ids=$(docker ps -q --filter "name=^$1\$" --filter status=running 2>/dev/null) || return 1; fi
  [ -n "$_ids" ] || return 1
  printf '%s\n' "$_ids" | head -n1
}`;
