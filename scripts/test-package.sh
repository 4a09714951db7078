#!/usr/bin/env bash
# Installs the .deb into a fresh Debian 12 root and uses it as a new user would:
#   bash scripts/test-package.sh [artifacts/chatvault_<version>_amd64.deb]
# 1. debootstrap a minimal bookworm root (Debian's mirror, as apt uses it);
# 2. `apt install ./chatvault_*.deb` there (dependencies and recommends from Debian);
# 3. as a normal user: `chatvault --version`, `chatvault demo`, init + backup (master key in
#    gnome-keyring in a private D-Bus session), `schedule install` (the systemd user units must
#    run /usr/bin/chatvault), the installed app under Xvfb with a screenshot that must not be
#    blank; then on a "new computer" (fresh keyring and folders) `key unlock` with the
#    recovery code and `restore`, which must bring back every message;
# 4. `apt remove --purge chatvault`: no file of the package and nothing named chatvault may be
#    left outside the user's home, and the user's data must still be there.
# Needs root (debootstrap, chroot, mounts). Prints each stage's wall time; the screenshot and
# a log land in artifacts/package-test/. CHATVAULT_PKGTEST_CACHE=DIR keeps downloaded .debs
# there between runs (faster reruns; the first run is what CI would see).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, chroot and mounts need it"
DEB=${1:-$(ls "$ROOT"/artifacts/chatvault_*_amd64.deb 2>/dev/null | head -1)}
[ -f "$DEB" ] || die "no .deb: run scripts/package.sh first (or pass its path)"
DEB=$(readlink -f "$DEB")
VERSION=$(dpkg-deb -f "$DEB" Version)
MIRROR=${CHATVAULT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${CHATVAULT_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
OUT="$ROOT/artifacts/package-test"
mkdir -p "$OUT"
rm -f "$OUT"/*
START=$SECONDS
stage_start=$SECONDS
stage() { # prints the previous stage's time, then the new heading
  [ -z "${STAGE:-}" ] || printf '    (%s: %d s)\n' "$STAGE" $((SECONDS - stage_start)) | tee -a "$OUT/timings.txt"
  STAGE=$1
  stage_start=$SECONDS
  heading "$1"
}

apt_ensure debootstrap xvfb xauth imagemagick

WORK=$(mktemp -d /var/tmp/chatvault-pkgtest.XXXXXX)
R="$WORK/root"
XVFB_PID=""
APP_PID=""
mounted=()
mnt() { # mnt TARGET mount-args...: mounts and remembers it for cleanup
  local target=$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}
cleanup() {
  local rc=$?
  set +e
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
  # Whatever still runs inside the root (dbus, gnome-keyring, the app) ends with it.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
  sleep 0.5
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
  done
  # Never delete through a mount that is still there.
  if findmnt -rn -o TARGET | grep -q "^$R/"; then
    echo "warning: mounts left under $R; not deleting $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT

in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }
# Runs a command as the user alice inside the root, in a private D-Bus session with an
# unlocked gnome-keyring (the Secret Service the keychain uses), with DISPLAY if set.
# $1: a folder under /home/alice standing for one computer's XDG data/config/cache.
as_alice() {
  local pc=$1
  shift
  chroot --userspec=alice:alice "$R" /usr/bin/env -i HOME=/home/alice USER=alice LOGNAME=alice \
    PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY="${DISPLAY_NUM:-}" \
    XDG_CONFIG_HOME="$pc/.config" XDG_DATA_HOME="$pc/.local/share" XDG_CACHE_HOME="$pc/.cache" \
    XDG_RUNTIME_DIR="/tmp/run-alice$(basename "$pc")" \
    bash -c 'mkdir -p -m 700 "$XDG_RUNTIME_DIR"
      exec dbus-run-session -- bash -c '\''
        echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        for i in $(seq 1 50); do
          dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break
          sleep 0.1
        done
        exec "$@"'\'' bash "$@"' bash "$@"
}
json_str() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }
json_num() { sed -n "s/.*\"$1\": *\\([0-9][0-9]*\\).*/\\1/p"; }

stage "Fresh Debian 12 root (debootstrap minbase)"
cache_args=()
if [ -n "${CHATVAULT_PKGTEST_CACHE:-}" ]; then
  mkdir -p "$CHATVAULT_PKGTEST_CACHE/debootstrap" "$CHATVAULT_PKGTEST_CACHE/apt/partial"
  cache_args=(--cache-dir="$(readlink -f "$CHATVAULT_PKGTEST_CACHE/debootstrap")")
fi
debootstrap --variant=minbase "${cache_args[@]}" bookworm "$R" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 ||
  { tail -20 "$OUT/debootstrap.log"; die "debootstrap failed"; }
cat >"$R/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
cp /etc/resolv.conf "$R/etc/resolv.conf"
mnt "$R/proc" -t proc proc
mnt "$R/sys" -t sysfs -o ro sysfs
mnt "$R/dev/shm" -t tmpfs -o mode=1777 tmpfs
mnt "$R/run" -t tmpfs -o mode=755 tmpfs
if [ -n "${CHATVAULT_PKGTEST_CACHE:-}" ]; then
  mnt "$R/var/cache/apt/archives" --bind "$(readlink -f "$CHATVAULT_PKGTEST_CACHE/apt")"
fi
in_root apt-get update -qq
# The test's own tools (not part of the package): D-Bus for a session bus, and a user.
in_root apt-get install -y -qq dbus >"$OUT/apt-tools.log" 2>&1 || { tail -20 "$OUT/apt-tools.log"; die "apt failed"; }
in_root useradd -m -s /bin/bash alice

stage "apt install ./$(basename "$DEB")"
cp "$DEB" "$R/tmp/"
chmod 644 "$R/tmp/$(basename "$DEB")"
in_root apt-get install -y "./tmp/$(basename "$DEB")" >"$OUT/apt-install.log" 2>&1 ||
  { tail -30 "$OUT/apt-install.log"; die "apt install of the .deb failed"; }
grep -E '^(Need to get|After this operation|[0-9]+ upgraded)' "$OUT/apt-install.log" | sed 's/^/    /'
in_root dpkg -L chatvault | sort >"$OUT/package-files.txt"
for f in /usr/bin/chatvault /usr/bin/chatvault-app /usr/share/applications/chatvault.desktop \
  /usr/share/doc/chatvault/copyright; do
  [ -e "$R$f" ] || die "$f is not installed"
done
grep -q '^Exec=chatvault-app' "$R/usr/share/applications/chatvault.desktop" || die "desktop entry: $(cat "$R/usr/share/applications/chatvault.desktop")"
in_root sh -c 'command -v chatvault' | grep -qx /usr/bin/chatvault || die "chatvault is not on PATH"
[ -n "${CHATVAULT_PKGTEST_CACHE:-}" ] && umount "$R/var/cache/apt/archives" && unset 'mounted[-1]'
touch "$WORK/installed-marker"

stage "The installed CLI: version, demo, backup, schedule"
v=$(as_alice /home/alice chatvault --version)
note "$v"
[[ $v =~ ^chatvault\ $VERSION\ \(commit\ [0-9a-f]{12},\ repository\ format\ 1\)$ ]] || die "unexpected --version: $v"
demo=$(as_alice /home/alice chatvault demo --json /home/alice/demo)
store=$(json_str store <<<"$demo")
key_file=$(json_str key_file <<<"$demo")
msgs=$(json_num messages <<<"$demo")
note "demo store: $store, $msgs messages"
[ -n "$store" ] && [ "$msgs" -gt 0 ] || die "chatvault demo: $demo"
target=file:///home/alice/backup
as_alice /home/alice chatvault init --json --target "$target" --recovery-code-file /home/alice/recovery.txt >/dev/null
backup=$(as_alice /home/alice chatvault backup --json --target "$target" --store "$store" \
  --key-file "$key_file" --save-profile daily 2>"$OUT/backup-stderr.log")
backed_up=$(json_num messages <<<"$backup")
note "backup: $(json_num conversations <<<"$backup") conversations, $backed_up messages"
[ "$backed_up" = "$msgs" ] || die "backup: $backup"
as_alice /home/alice chatvault schedule set --profile daily "daily 02:30" >/dev/null
as_alice /home/alice chatvault schedule install --profile daily >"$OUT/schedule-install.txt" 2>&1 || true
unit=$(ls "$R"/home/alice/.config/systemd/user/*.service 2>/dev/null | head -1)
[ -n "$unit" ] || die "schedule install wrote no unit: $(cat "$OUT/schedule-install.txt")"
grep -q '^ExecStart="/usr/bin/chatvault" backup --profile daily' "$unit" ||
  die "the unit does not run the installed CLI: $(grep ExecStart "$unit")"
note "$(basename "$unit"): $(grep ExecStart "$unit")"

stage "The installed app under Xvfb"
exec 3>"$WORK/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -ac >"$OUT/xvfb.log" 2>&1 &
XVFB_PID=$!
exec 3>&-
for _ in $(seq 1 50); do [ -s "$WORK/display" ] && break; sleep 0.1; done
DISPLAY_NUM=":$(cat "$WORK/display")"
# The chroot reaches the server through its abstract socket (same network namespace).
t_app=$SECONDS
DISPLAY_NUM=$DISPLAY_NUM as_alice /home/alice timeout 60 chatvault-app >"$OUT/app.log" 2>&1 &
APP_PID=$!
shot="$OUT/app.png"
# Wait until the window has painted something (many colours), at most 30 s.
colours=0
for _ in $(seq 1 30); do
  sleep 1
  import -display "$DISPLAY_NUM" -window root "$shot" 2>/dev/null || continue
  colours=$(convert "$shot" -format '%k' info:)
  [ "$colours" -ge 200 ] && break
done
sleep 2 # let the first page finish loading, then the screenshot that is kept
import -display "$DISPLAY_NUM" -window root "$shot"
colours=$(convert "$shot" -format '%k' info:)
spread=$(convert "$shot" -crop 1100x720+0+0 -colorspace gray -format '%[fx:standard_deviation]' info:)
note "screenshot $shot: $colours colours, grey spread $spread, window painted after ~$((SECONDS - t_app)) s"
kill -0 "$APP_PID" 2>/dev/null || die "the app exited: $(tail -20 "$OUT/app.log")"
[ "$colours" -ge 200 ] || die "the screenshot looks blank ($colours colours)"
awk -v s="$spread" 'BEGIN { exit !(s > 0.05) }' || die "the screenshot looks blank (spread $spread)"
kill "$APP_PID" 2>/dev/null
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && [ "$(cat "$p/comm" 2>/dev/null)" = chatvault-app ] && kill "${p#/proc/}"
done
wait "$APP_PID" 2>/dev/null || true
APP_PID=""
kill "$XVFB_PID" && XVFB_PID=""
# What the app left in the home folder: its logs only under its data folder.
(cd "$R/home/alice" && find . -newer "$WORK/installed-marker" -type f | sort) >"$OUT/home-files.txt"
logs=$(grep -iE '\.log(\.[0-9]+)?$|/logs?/' "$OUT/home-files.txt" | grep -v '^\./\.local/share/chatvault/logs/' || true)
[ -z "$logs" ] || die "log files outside the data folder: $logs"
grep -q '^\./\.local/share/chatvault/logs/chatvault\.log$' "$OUT/home-files.txt" || die "no log in the data folder"
grep -q ' app started, version ' "$R/home/alice/.local/share/chatvault/logs/chatvault.log" || die "the app did not log its start"
note "written in the home since the install: $(cut -d/ -f2-3 "$OUT/home-files.txt" | grep -vE '^(demo|backup|recovery.txt)' | sort -u | tr '\n' ' ')"

stage "A new computer: key unlock with the recovery code, restore"
newpc=/home/alice/newpc
as_alice /home/alice bash -c "mkdir -p $newpc && cp /home/alice/recovery.txt $newpc/"
before=$(as_alice $newpc chatvault key status --json --target "$target")
[[ $before == *'"key_in_keychain": false'* || $before == *'"key_in_keychain":false'* ]] || die "new computer already has the key: $before"
as_alice $newpc chatvault key unlock --json --target "$target" --recovery-code-file $newpc/recovery.txt >/dev/null
restored=$(as_alice $newpc chatvault restore --json --target "$target" --into $newpc/restored 2>"$OUT/restore-stderr.log")
note "restore: $(json_num conversations <<<"$restored") conversations, $(json_num messages <<<"$restored") messages, $(grep -c '\.html"' <<<"$restored") HTML files"
[ "$(json_num messages <<<"$restored")" = "$msgs" ] || die "restore brought back $(json_num messages <<<"$restored") of $msgs messages"
ls "$R$newpc/restored" | grep -q '\.html$' || find "$R$newpc/restored" -name '*.html' | grep -q . || die "no HTML export"

stage "apt remove --purge chatvault"
in_root apt-get remove --purge -y chatvault >"$OUT/apt-remove.log" 2>&1 || { tail -20 "$OUT/apt-remove.log"; die "apt remove failed"; }
in_root dpkg -s chatvault >/dev/null 2>&1 && die "chatvault is still installed"
left=""
while read -r f; do
  [ -n "$f" ] && [ ! -d "$R$f" ] && [ -e "$R$f" ] && left+="$f "
done <"$OUT/package-files.txt"
[ -z "$left" ] || die "files of the package left after purge: $left"
named=$(cd "$R" && find . -xdev \( -path ./home -o -path ./tmp -o -path ./proc -o -path ./sys -o -path ./run \) -prune -o -iname '*chatvault*' -print)
[ -z "$named" ] || die "left outside the user's data: $named"
[ -f "$R/home/alice/.local/share/chatvault/logs/chatvault.log" ] && [ -d "$R/home/alice/backup" ] ||
  die "the user's data went with the package"
note "nothing of the package is left; the user's data (~/.config, ~/.local/share, the backup) stays"
stage "done"
note "total: $((SECONDS - START)) s (package $(basename "$DEB"), $(du -h "$DEB" | cut -f1))" | tee -a "$OUT/timings.txt"
