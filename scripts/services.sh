#!/usr/bin/env bash
# Starts the real services the tests talk to, runs a command, stops them by PID.
# Must run inside a private session bus:   dbus-run-session -- scripts/services.sh CMD...
#
#   Secret Service  gnome-keyring-daemon, unlocked, XDG dirs under $CHATVAULT_TEST_TMP
#   S3              moto_server on 127.0.0.1 (bucket chatvault-test created)
#   WebDAV          wsgidav on 127.0.0.1, anonymous
#   WebDAV + auth   rclone serve webdav on 127.0.0.1, basic auth
# and exports CHATVAULT_TEST_* variables that tell the tests where they are (and the servers'
# programs, for tests that start an instance of their own).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || die "services.sh must run inside dbus-run-session"
: "${CHATVAULT_TEST_TMP:?set by test.sh}"
S="$CHATVAULT_TEST_TMP/services"
mkdir -p "$S"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- Secret Service -------------------------------------------------------------------------
# A throw-away keyring: unlocked with a throw-away password, stored under the temp XDG dirs.
printf 'chatvault-test' | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >"$S/keyring.env" 2>"$S/keyring.log" &
pids+=($!)
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; then
    break
  fi
  sleep 0.1
done
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true \
  || die "gnome-keyring did not come up on the session bus (see $S/keyring.log)"
export CHATVAULT_TEST_KEYRING=1

# --- S3: moto ----------------------------------------------------------------------------------
s3_port=$(free_port)
"$TOOLS/venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$S/moto.log" 2>&1 &
pids+=($!)
wait_port "$s3_port" || die "moto_server did not start (see $S/moto.log)"
export CHATVAULT_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
export CHATVAULT_TEST_S3_BUCKET=chatvault-test
export CHATVAULT_TEST_S3_PID=${pids[-1]}
export AWS_ACCESS_KEY_ID=chatvault-test AWS_SECRET_ACCESS_KEY=chatvault-test-secret AWS_DEFAULT_REGION=us-east-1
"$TOOLS/venv/bin/python" - <<PY || die "could not create the test bucket"
import boto3
boto3.client("s3", endpoint_url="$CHATVAULT_TEST_S3_ENDPOINT", region_name="us-east-1").create_bucket(Bucket="chatvault-test")
PY

# --- WebDAV, anonymous: wsgidav -----------------------------------------------------------------
dav_port=$(free_port)
mkdir -p "$S/dav"
"$TOOLS/venv/bin/wsgidav" --host 127.0.0.1 --port "$dav_port" --root "$S/dav" --auth anonymous \
  --no-config >"$S/wsgidav.log" 2>&1 &
pids+=($!)
wait_port "$dav_port" || die "wsgidav did not start (see $S/wsgidav.log)"
export CHATVAULT_TEST_WEBDAV_URL="webdav+http://127.0.0.1:$dav_port/"

# --- WebDAV, basic auth: rclone ------------------------------------------------------------------
davs_port=$(free_port)
mkdir -p "$S/dav-auth"
RCLONE_CONFIG="$S/rclone.conf" rclone serve webdav "$S/dav-auth" --addr "127.0.0.1:$davs_port" \
  --user davuser --pass davpass-test >"$S/rclone.log" 2>&1 &
pids+=($!)
wait_port "$davs_port" || die "rclone serve webdav did not start (see $S/rclone.log)"
export CHATVAULT_TEST_WEBDAV_AUTH_URL="webdav+http://davuser@127.0.0.1:$davs_port/"
export CHATVAULT_TEST_WEBDAV_AUTH_PASSWORD=davpass-test

# The servers' programs, for tests that start an instance of their own (a server whose disk
# fills up, one that dies and comes back).
export CHATVAULT_TEST_WSGIDAV_BIN="$TOOLS/venv/bin/wsgidav"
export CHATVAULT_TEST_MOTO_BIN="$TOOLS/venv/bin/moto_server"

note "services: keyring, S3 $CHATVAULT_TEST_S3_ENDPOINT, WebDAV :$dav_port, WebDAV+auth :$davs_port"
"$@"
