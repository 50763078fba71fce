/**
 * Package steps on Debian and Ubuntu nodes wait for another apt to let go of its locks. A machine's first boot
 * runs unattended-upgrades (apt update, then dpkg) for minutes: an install started then failed at once with
 * "Could not get lock". One definition for every node script that runs apt (install-k8s.sh's `{{APT_FUNCTIONS}}`,
 * the upgrade steps).
 */

/**
 * How long a package step waits for another apt or dpkg to finish, in seconds. Besides unattended-upgrades, the
 * command of a killed run may still be installing on the node when the rerun starts (sshd does not end it when the
 * connection drops): the rerun waits for it rather than fail. dnf waits for its lock itself.
 */
export const APT_LOCK_WAIT_SECONDS = 300

/**
 * Shell functions (bash):
 * - `apt_install ARGS…`: `apt-get install -y -q`, waiting for dpkg's lock (`-o DPkg::Lock::Timeout`);
 * - `apt_update`: `apt-get update -q`, which that option does not cover (apt 2.6, checked: it fails at once on
 *   /var/lib/apt/lists/lock): tried again every 2 s while the lock is what stops it, up to the same wait; any
 *   other failure (a repository that answers 403) fails at once, with apt's own message.
 */
export const APT_FUNCTIONS = `apt_install() { apt-get install -y -q -o DPkg::Lock::Timeout=${APT_LOCK_WAIT_SECONDS} "$@"; }
apt_update() {
  local waited=0 err rc
  err=$(mktemp)
  while :; do
    rc=0
    apt-get update -q 2>"$err" || rc=$?
    if [ "$rc" -eq 0 ] || ! grep -q 'Could not get lock' "$err" || [ "$waited" -ge ${APT_LOCK_WAIT_SECONDS} ]; then
      cat "$err" >&2
      rm -f "$err"
      return "$rc"
    fi
    printf 'obsctl: waiting for another apt to release its lock (%ss of ${APT_LOCK_WAIT_SECONDS}s)\\n' "$waited"
    sleep 2
    waited=$((waited + 2))
  done
}`
