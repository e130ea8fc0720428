import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A `docker` for the container path of the off-site copy in unit and SSH
 * tests (the lab runs the real one): it records each call's arguments,
 * answers `image inspect` and `pull` for any image, and for `run` starts
 * the entrypoint with the arguments after the image, this machine's
 * rclone, but only when every absolute path among those arguments lies in
 * a directory the call mounts (-v SRC:DST or --mount type=bind,source=SRC,target=DST, SRC equal
 * to DST; -v makes a missing SRC a directory and --mount refuses it, as dockerd does), as a
 * container would only see those. Returns the directory to put first on PATH.
 */
export function dockerStandIn(dir: string, log: string): string {
  const bin = path.join(dir, 'standin-bin');
  mkdirSync(bin, { recursive: true });
  const script = `#!/bin/bash
printf '%s\\n' "$*" >> ${JSON.stringify(log)}
case "$1" in
  image|pull) exit 0 ;;
  run) shift ;;
  *) echo "docker stand-in: $1 is not handled" >&2; exit 125 ;;
esac
mounts=(); ep=
while [ $# -gt 0 ]; do
  case "$1" in
    --rm) shift ;;
    --network) [ "$2" = host ] || { echo "docker stand-in: network $2" >&2; exit 125; }; shift 2 ;;
    --entrypoint) ep=$2; shift 2 ;;
    # -v makes a missing source an empty directory, as dockerd does (docs: "bind mounts", -v vs --mount).
    -v) src=\${2%%:*}; rest=\${2#*:}; dst=\${rest%%:*}
        [ "$src" = "$dst" ] || { echo "docker stand-in: $2 mounts elsewhere" >&2; exit 125; }
        [ -e "$src" ] || mkdir -p -- "$src"
        mounts+=("$src"); shift 2 ;;
    # --mount refuses a missing source, as dockerd does.
    --mount) src=; dst=
        IFS=, read -ra kv <<< "$2"
        for f in "\${kv[@]}"; do case "$f" in source=*|src=*) src=\${f#*=} ;; target=*|destination=*|dst=*) dst=\${f#*=} ;; type=bind|readonly|ro) ;; *) echo "docker stand-in: mount option $f" >&2; exit 125 ;; esac; done
        [ -n "$src" ] && [ "$src" = "$dst" ] || { echo "docker stand-in: $2 mounts elsewhere" >&2; exit 125; }
        [ -e "$src" ] || { echo "docker: Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: $src" >&2; exit 125; }
        mounts+=("$src"); shift 2 ;;
    -*) echo "docker stand-in: option $1" >&2; exit 125 ;;
    *) break ;;
  esac
done
shift # the image
for a in "$@"; do
  case "$a" in
    *'*'*) ;; # a filter pattern, not a path
    /*) ok=; for m in "\${mounts[@]}"; do case "$a/" in "$m"/*) ok=1 ;; esac; done
        [ -n "$ok" ] || { echo "docker stand-in: $a is not mounted" >&2; exit 125; } ;;
  esac
done
exec "\${ep:?no entrypoint}" "$@"
`;
  writeFileSync(path.join(bin, 'docker'), script);
  chmodSync(path.join(bin, 'docker'), 0o755);
  return bin;
}
