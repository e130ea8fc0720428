import { CONTAINER_OF } from '../ops/docker/container-of.ts';

/**
 * Bash functions shared by the set script and the verify script. Every
 * artefact is read in full before it counts: pg_restore writes the whole
 * dump as SQL to /dev/null, tar lists every member, unzip tests every CRC.
 * A dump is read by the database's own container when it runs, else by a
 * throwaway container of the image that wrote it (recorded in the manifest).
 */
export const REMOTE_HELPERS = String.raw`
fail() {
  printf '@@fail %s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\n\t' '  ' | cut -c1-700)"
  exit 3
}
errtail() { tail -c 600 -- "$err" 2>/dev/null | tr '\n' ' '; }
cleanup() {
  rc=$?
  if [ "$published" != 1 ] && [ -n "$work" ]; then rm -rf -- "$work"; fi
  if [ -n "$err" ]; then rm -f -- "$err"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE

${CONTAINER_OF}

# read_dump FILE SERVICE IMAGE: a full read of a custom-format dump, listing its tables on stdout.
read_dump() {
  local c
  if c=$(container_of "$2"); then
    docker exec -i "$c" pg_restore -f /dev/null < "$1" || return 1
    docker exec -i "$c" pg_restore -l < "$1" | { grep -c ' TABLE DATA ' || true; }
  else
    docker run --rm -i --network none --log-driver none --entrypoint pg_restore "$3" -f /dev/null < "$1" || return 1
    docker run --rm -i --network none --log-driver none --entrypoint pg_restore "$3" -l < "$1" | { grep -c ' TABLE DATA ' || true; }
  fi
}
read_tar() { tar -tf "$1" | wc -l; }
read_zip() {
  if command -v unzip >/dev/null; then
    unzip -tqq "$1" >&2 && unzip -Z1 "$1" | wc -l
  else
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1]); bad = z.testzip()
if bad: sys.exit("corrupt member: " + bad)
print(len(z.namelist()))' "$1"
  fi
}

# seal NAME KIND FILE CHECK EXTRA_JSON: size floor, checksum, fsync, rename, manifest entry.
seal() {
  local f="$work/$3.partial" bytes sum
  bytes=$(stat -c %s -- "$f")
  [ "$bytes" -ge "$min_bytes" ] || fail "$1" "$3 is $bytes bytes, below the floor of $min_bytes"
  sum=$(sha256sum -- "$f" | cut -d' ' -f1)
  sync -- "$f"
  mv -- "$f" "$work/$3"
  if [ -n "$items_json" ]; then items_json="$items_json,"; fi
  items_json="$items_json{\"name\":\"$1\",\"kind\":\"$2\",\"file\":\"$3\",\"bytes\":$bytes,\"sha256\":\"$sum\",\"check\":\"$4\"$5}"
  total=$((total + bytes))
  printf '@@done %s %s %s\n' "$1" "$bytes" "$sum"
}

# pg_item NAME FILE SERVICE DATABASE USER HOST LOCK_WAIT PASSWORD
pg_item() {
  local c image tables out="$work/$2.partial"
  printf '@@start %s\n' "$1"
  c=$(container_of "$3") || fail "$1" "no running container of service $3 on this host (is PostgreSQL up?)"
  image=$(docker inspect -f '{{.Config.Image}}' "$c")
  PGPASSWORD=$8 docker exec -i -e PGPASSWORD "$c" pg_dump -Fc -w -h "$6" -U "$5" -d "$4" --lock-wait-timeout="$7" > "$out" 2> "$err" \
    || fail "$1" "pg_dump of database $4 failed: $(errtail)"
  tables=$(read_dump "$out" "$3" "$image" 2> "$err") || fail "$1" "pg_restore could not read the dump in full: $(errtail)"
  seal "$1" postgres "$2" "pg_restore full read" ",\"service\":\"$3\",\"database\":\"$4\",\"user\":\"$5\",\"image\":\"$image\",\"tables\":$tables"
}

# gitea_item NAME FILE SERVICE USER CONFIG TEMPDIR VOLUME
gitea_item() {
  local c image files out="$work/$2.partial"
  printf '@@start %s\n' "$1"
  c=$(container_of "$3") || fail "$1" "no running container of service $3 on this host (is Gitea up?)"
  image=$(docker inspect -f '{{.Config.Image}}' "$c")
  # A fresh volume or bind mount at the temp dir is root's: gitea dump, run as git, could not write there.
  docker exec -u "$4" "$c" test -w "$6" > /dev/null 2>&1 \
    || docker exec -u 0 "$c" sh -c 'mkdir -p -- "$1" && chown -- "$2" "$1"' rigger "$6" "$4" > /dev/null 2> "$err" \
    || fail "$1" "cannot make gitea dump's temp dir $6 writable by $4: $(errtail)"
  docker exec -i -u "$4" "$c" gitea dump -c "$5" --type zip --skip-log --tempdir "$6" --file - > "$out" 2> "$err" \
    || fail "$1" "gitea dump failed: $(errtail)"
  files=$(read_zip "$out" 2> "$err") || fail "$1" "the zip does not read back: $(errtail)"
  seal "$1" gitea "$2" "zip test" ",\"service\":\"$3\",\"image\":\"$image\",\"volume\":\"$7\",\"files\":$files"
}

# volume_item NAME FILE VOLUME IMAGE: tar of the volume through a throwaway container (no log driver: the tar must not be copied into a log).
# A service that writes while its volume is read (Prometheus's WAL, Loki's
# chunks) makes GNU tar exit 1 after writing every member, naming each file
# that changed or went away: the set is then as consistent as after a power
# cut, which those stores recover from, and the manifest says so. Exit 1 with
# any other tar message (busybox tar's errors), or any other code, fails the item.
volume_item() {
  local files rc=0 changed=false out="$work/$2.partial"
  printf '@@start %s\n' "$1"
  docker volume inspect "$3" > /dev/null 2> "$err" || fail "$1" "no volume $3 on this host: $(errtail)"
  docker run --rm --network none --log-driver none -v "$3:/volume:ro" --entrypoint tar "$4" -C /volume -cf - . > "$out" 2> "$err" || rc=$?
  # Only tar's own lines count: docker run adds its own on stderr (pulling the image on a first backup).
  if [ "$rc" -eq 1 ] && grep -q -e '^tar: .*: file changed as we read it$' -e '^tar: .*: File removed before we read it$' "$err" \
    && ! grep '^tar: ' "$err" | grep -qv -e ': file changed as we read it$' -e ': File removed before we read it$'; then rc=0; changed=true; fi
  [ "$rc" -eq 0 ] || fail "$1" "tar of volume $3 failed: $(errtail)"
  files=$(read_tar "$out" 2> "$err") || fail "$1" "tar cannot read the archive back: $(errtail)"
  seal "$1" volume "$2" "tar list" ",\"volume\":\"$3\",\"image\":\"$4\",\"files\":$files,\"changed_while_read\":$changed"
}

# config_item NAME FILE PATH...: paths relative to /; ?PATH is tarred when it exists, else listed as absent.
config_item() {
  local name=$1 file=$2 files out="$work/$2.partial" list="$work/$2.list" p absent=
  shift 2
  printf '@@start %s\n' "$name"
  : > "$list"
  for p in "$@"; do
    case $p in
      '?'*)
        p=$(printf '%s' "$p" | cut -c2-)
        if [ ! -e "/$p" ] && [ ! -L "/$p" ]; then
          [ -z "$absent" ] || absent="$absent,"
          absent="$absent\"/$p\""
          continue
        fi ;;
    esac
    printf '%s\0' "$p" >> "$list"
  done
  # From a list: a host with none of its optional paths still gets a valid, empty archive.
  tar -C / -cf "$out" --null -T "$list" 2> "$err" || fail "$name" "tar of $* failed: $(errtail)"
  rm -f -- "$list"
  files=$(read_tar "$out" 2> "$err") || fail "$name" "tar cannot read the archive back: $(errtail)"
  seal "$name" config "$file" "tar list" ",\"files\":$files,\"absent\":[$absent]"
}
`;
