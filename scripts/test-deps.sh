#!/usr/bin/env bash
# The Debian packages the tests need, checked before `npm test` runs them:
# installed when run as root (as `scripts/lab.ts up` installs Docker), named
# with the command to install them otherwise. The one place that installs
# test packages: .ci/run calls `npm test` too. The lab suites' own needs
# (Docker, debootstrap) stay with `scripts/lab.ts up`, which installs them.
set -euo pipefail

missing=()
need() { # need PACKAGE TEST...: the package unless every test (a shell test expression) holds
  local pkg=$1; shift
  for t in "$@"; do
    if ! eval "$t"; then missing+=("$pkg"); return; fi
  done
}
has() { command -v "$1" >/dev/null 2>&1; }

# A real OpenSSH server and client for the transport tests (ssh-agent too).
need openssh-server '[ -x /usr/sbin/sshd ]'
need openssh-client 'has ssh-keygen' 'has ssh-agent'
# sudo for the become tests; `script` for a real pseudo-terminal; pgrep/ps.
need sudo 'has sudo' 'has visudo'
need bsdutils 'has script'
need procps 'has pgrep' 'has ps'
need curl 'has curl'
need dash 'has dash'
# The backup's fixture tests run its bash script here: flock, unzip, python3.
# strace counts the programs a batch starts on the host (test/ssh/path-batch.test.ts); setpriv runs it as nobody.
need strace 'has strace'
# unshare runs a generated script chrooted in a scratch root (test/helpers/scratch-root.ts).
need util-linux 'has flock' 'has setpriv' 'has unshare'
# iptables-restore --test reads the firewall op's ESP chain in a network namespace of its own (test/unit/firewall-protocols.test.ts).
need iptables 'has iptables-restore'
# Debian's cron daemon runs the cron op's jobs in a private mount namespace (test/helpers/cron.ts); its service is not used.
need cron '[ -x /usr/sbin/cron ]'
need unzip 'has unzip'
need python3 'has python3'
# The off-site copy's tests run the real rclone between two local directories (test/unit/backup-offsite.test.ts).
need rclone 'has rclone'
# systemd's own unit and time-span parsers read the scheduled jobs' units (test/unit/scheduled-units.test.ts).
need systemd 'has systemd-analyze'
# Disaster recovery reads dumps with this machine's pg_restore.
need postgresql-client 'has pg_restore'
# ... restores them into a real server started in a scratch directory (test/helpers/postgres.ts), and the databases op runs against one (test/cli/postgres-verifiers.test.ts).
need postgresql 'compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null'
# Ansible for the side-by-side parity tests; Chromium for the run report's page test.
need ansible-core 'has ansible-playbook'
# The benchmark's Mitogen peer is checked on this machine (test/unit/bench-peers.test.ts).
need ansible-mitogen '[ -d /usr/lib/python3/dist-packages/ansible_mitogen ]'
need chromium 'has chromium'
# Debian's amtool checks the monitoring role's alertmanager.yml, e-mail receiver included (test/unit/alertmanager-email.test.ts).
need prometheus-alertmanager 'has amtool'
# tmux draws a no-op site run in a 120-column pane (test/lab/first-run.test.ts).
need tmux 'has tmux'

if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing the tests' Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 DEBCONF_NOWARNINGS=yes
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
