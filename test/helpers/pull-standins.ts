// Stand-in docker and curl for the image pull (lib/ops/docker/image-pull.ts):
// the CLI boundary, as other tests' stand-in docker. The daemon's side of
// POST /images/create is played by the curl stand-in, which streams the
// Engine API's JSON progress; what it does is chosen by the image's tag:
//   slow    - five byte counts 0.2 s apart, then the end of a pull (the image is then there)
//   stall   - a layer's first bytes, then nothing (it waits in `wait`, so a TERM ends it at once)
//   missing - the daemon's error in the stream
// Each curl call's URL is appended to $PULL_STATE/calls; images present are files in $PULL_STATE/have/TAG.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const DOCKER = `#!/bin/sh
# stand-in docker: only \`image inspect\`, which finds an image by its tag
[ "$1 $2" = "image inspect" ] || { echo "stand-in docker: unexpected $*" >&2; exit 1; }
for ref; do :; done
[ -e "$PULL_STATE/have/\${ref##*:}" ]
`;

const CURL = `#!/bin/sh
# stand-in curl: the daemon's side of POST /images/create
for url; do :; done
echo "$url" >> "$PULL_STATE/calls"
tag=\${url##*tag=}
line() { printf '%s\\r\\n' "$1"; }
line '{"status":"Pulling from lab/app","id":"'"$tag"'"}'
line '{"status":"Pulling fs layer","progressDetail":{},"id":"3f1c2a9b7d10"}'
case "$tag" in
  slow)
    for mb in 1 2 3 4 5; do
      line '{"status":"Downloading","progressDetail":{"current":'"$mb"'000000,"total":5000000},"progress":"[==>  ]","id":"3f1c2a9b7d10"}'
      sleep 0.2
    done
    line '{"status":"Pull complete","progressDetail":{},"id":"3f1c2a9b7d10"}'
    touch "$PULL_STATE/have/$tag"
    line '{"status":"Status: Downloaded newer image for lab/app:slow"}' ;;
  stall)
    line '{"status":"Downloading","progressDetail":{"current":1000000,"total":50000000},"progress":"[>    ]","id":"3f1c2a9b7d10"}'
    echo $$ > "$PULL_STATE/curl.pid"
    # Its output away from the pipe: a leftover sleep would hold the stream open after the pull is ended.
    sleep 600 >/dev/null 2>&1 & echo $! > "$PULL_STATE/sleep.pid"
    wait $! ;;
  missing)
    line '{"errorDetail":{"message":"manifest for lab/app:missing not found: manifest unknown"},"error":"manifest for lab/app:missing not found: manifest unknown"}' ;;
esac
`;

export interface PullStandins {
  /** Put first on PATH. */
  bin: string;
  /** PULL_STATE for the stand-ins. */
  state: string;
}

export function pullStandins(): PullStandins {
  const dir = mkdtempSync(path.join(tmpdir(), 'rigger-pull-'));
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(path.join(state, 'have'), { recursive: true });
  writeFileSync(path.join(bin, 'docker'), DOCKER, { mode: 0o755 });
  writeFileSync(path.join(bin, 'curl'), CURL, { mode: 0o755 });
  return { bin, state };
}
