#!/usr/bin/env bash
# `make run`: starts the local ARM emulator with examples/world.yaml and the kustodian daemon on
# examples/manifests/ against it, prints where to look, and stops both cleanly on Ctrl-C.
# Usage: examples/run.sh [BUILD_DIR]   (default: build)
# Environment: KUSTODIAN_RUN_DIR (default ./.run), KUSTODIAN_METRICS_PORT (default: 8080, or the
# next free port), KUSTODIAN_RUN_ARGS (extra flags for `kustodian run`, e.g. "--log-format json").
set -euo pipefail

# A shell without job control (e.g. `bash run.sh &` from a script) starts this script with SIGINT
# ignored, and bash cannot trap a signal ignored at entry: re-exec once with the default action
# so Ctrl-C / kill -INT always stops both processes cleanly.
if [[ -z "${KUSTODIAN_RUN_REEXEC:-}" ]] && env --default-signal=INT true 2>/dev/null; then
  KUSTODIAN_RUN_REEXEC=1 exec env --default-signal=INT bash "$0" "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${1:-build}"
EMULATOR="$BUILD_DIR/kustodian-emulator"
DAEMON="$BUILD_DIR/kustodian"
RUN_DIR="${KUSTODIAN_RUN_DIR:-$ROOT/.run}"
TOKEN="kustodian-dev-token"  # accepted by the emulator (--dev-token); a local demo value only

for bin in "$EMULATOR" "$DAEMON"; do
  if [[ ! -x "$bin" ]]; then
    echo "run.sh: $bin is missing; build first (make build, or cmake --build $BUILD_DIR)" >&2
    exit 1
  fi
done

# A fresh demo every time: the emulator starts from examples/world.yaml, so the daemon's state
# (ownership journal, status files) starts empty as well.
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/state" "$RUN_DIR/status"

EMU_PID=""
DAEMON_PID=""

stop() {
  trap - INT TERM
  echo
  echo "run.sh: stopping kustodian and the emulator..."
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if [[ -n "$EMU_PID" ]] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill -TERM "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  echo "run.sh: stopped. State and status files are kept in $RUN_DIR"
}

# Leaves nothing running if this script dies on an error.
cleanup_on_exit() {
  for pid in "$DAEMON_PID" "$EMU_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup_on_exit EXIT
trap 'stop; exit 0' INT TERM

# --- the emulator ----------------------------------------------------------------------------
"$EMULATOR" --world examples/world.yaml --dev-token "$TOKEN" --port 0 \
  --port-file "$RUN_DIR/emulator.port" --log-requests >"$RUN_DIR/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 100); do
  [[ -s "$RUN_DIR/emulator.port" ]] && break
  if ! kill -0 "$EMU_PID" 2>/dev/null; then
    echo "run.sh: the emulator exited; its log:" >&2
    cat "$RUN_DIR/emulator.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s "$RUN_DIR/emulator.port" ]]; then
  echo "run.sh: the emulator did not report its port within 10 s; see $RUN_DIR/emulator.log" >&2
  exit 1
fi
EMU_PORT="$(cat "$RUN_DIR/emulator.port")"
EMU_URL="http://127.0.0.1:$EMU_PORT"

# --- the daemon ------------------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
METRICS_PORT="${KUSTODIAN_METRICS_PORT:-8080}"
if [[ -z "${KUSTODIAN_METRICS_PORT:-}" ]]; then
  while port_in_use "$METRICS_PORT"; do
    METRICS_PORT=$((METRICS_PORT + 1))
  done
fi
DAEMON_URL="http://127.0.0.1:$METRICS_PORT"

# shellcheck disable=SC2086  # KUSTODIAN_RUN_ARGS is a list of flags
KUSTODIAN_TOKEN="$TOKEN" "$DAEMON" run \
  --config-dir examples/manifests \
  --state-dir "$RUN_DIR/state" \
  --status-dir "$RUN_DIR/status" \
  --metrics-bind-address "127.0.0.1:$METRICS_PORT" \
  --arm-endpoint "$EMU_URL" \
  ${KUSTODIAN_RUN_ARGS:-} &
DAEMON_PID=$!

ready=""
if command -v curl >/dev/null; then
  for _ in $(seq 1 150); do
    if curl -fsS "$DAEMON_URL/readyz" >/dev/null 2>&1; then
      ready="yes"
      break
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.2
  done
fi
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
  wait "$DAEMON_PID" || true
  echo "run.sh: kustodian exited during startup (see the log above)" >&2
  exit 1
fi

cat <<EOF

================================================================================
 kustodian is ${ready:+ready and }running against the local ARM emulator.

 Daemon (pid $DAEMON_PID)
   status of every connection:  curl -s $DAEMON_URL/status
   one connection:              curl -s $DAEMON_URL/status/<lower-case ARM id>
   Prometheus metrics:          curl -s $DAEMON_URL/metrics
   probes:                      $DAEMON_URL/healthz  $DAEMON_URL/readyz
   status files:                $RUN_DIR/status/
   ownership journal:           $RUN_DIR/state/managed.json

 Emulator (pid $EMU_PID) at $EMU_URL
   requests it received:        curl -s $EMU_URL/_admin/requests
   counters (PUTs, LISTs...):   curl -s $EMU_URL/_admin/stats
   its connections:             curl -s $EMU_URL/_admin/connections
   its log:                     $RUN_DIR/emulator.log

 Edit a file in examples/manifests/ and watch the daemon PUT the change.
 Plan against the emulator:
   KUSTODIAN_TOKEN=$TOKEN $DAEMON plan --config-dir examples/manifests \\
     --state-dir $RUN_DIR/state --arm-endpoint $EMU_URL

 Press Ctrl-C to stop both.
================================================================================

EOF

# Wait for Ctrl-C (the trap) or for the daemon to exit on its own.
set +e
wait "$DAEMON_PID"
code=$?
set -e
DAEMON_PID=""
echo "run.sh: kustodian exited with code $code" >&2
stop
exit "$code"
