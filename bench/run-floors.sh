#!/usr/bin/env bash
# Floors of the web load benchmark (bench/run-web.sh): the same wrk load
# (64 connections, 127.0.0.1 only, each phase bounded in time) against a
# build with parts of the work left out, to measure what each part of the
# progress page and of the check-in costs and what no implementation of
# them can go below on this machine.
#
# The build is HEAD with bench/floors.patch applied, in a worktree of its
# own (the patch is never part of the product's code). Its server reads
# KNEEPATH_FLOOR:
#   page               the real progress page (the same binary, for comparison)
#   no-render          the plan's data read and the audit row as for the page;
#                      the first page's HTML answered again (gzip still runs)
#   no-render-no-gzip  the same, its gzip bytes answered again
#   no-read            only the session and the audit row, the gzip bytes
#   checkin-no-work    POST /checkin: session, CSRF check and form read, then
#                      the redirect a saved check-in answers; no database work
# plus GET /static/style.css (no session, no database) and the native bare
# insert reference of run-web.sh.
#
# Usage: bash bench/run-floors.sh    (DUR=30 CONNS=64 PATIENTS=2000 by default)
#        KNEEPATH_FLOOR_BIN=/path/to/patched/kneepath bash bench/run-floors.sh
set -euo pipefail
cd "$(dirname "$0")/.."
{ command -v wrk >/dev/null; } || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
DUR=${DUR:-30}
CONNS=${CONNS:-64}
PATIENTS=${PATIENTS:-2000}
TODAY=2026-11-24
PORT=38183
work=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  git worktree remove --force "$work/src" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${KNEEPATH_FLOOR_BIN:-}" ]; then
  BIN=$KNEEPATH_FLOOR_BIN
else
  echo "== building HEAD with bench/floors.patch"
  git worktree add -q --detach "$work/src" HEAD
  git -C "$work/src" apply "$PWD/bench/floors.patch"
  CARGO_TARGET_DIR=${FLOOR_TARGET_DIR:-$HOME/.cache/kneepath-floors-target} \
    cargo build --release --locked -q -p kneepath --manifest-path "$work/src/Cargo.toml"
  BIN=${FLOOR_TARGET_DIR:-$HOME/.cache/kneepath-floors-target}/release/kneepath
fi

DB="sqlite://$work/bench.db"
echo "== seeding $PATIENTS patients and the demo patient"
"$BIN" seed --database "$DB" --patients "$PATIENTS" --today "$TODAY" --sessions "$work/tokens.txt" 2>/dev/null

start() {  # start FLOOR: the server with KNEEPATH_FLOOR=FLOOR, the demo patient logged in
  [ -n "$SERVER" ] && { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
  KNEEPATH_FLOOR=$1 "$BIN" serve --database "$DB" --addr 127.0.0.1:$PORT --today $TODAY --demo > "$work/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  local jar="$work/jar" csrf
  rm -f "$jar"
  csrf=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
  curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&email=demo%40kneepath.local&password=demo-knee-2026&next=%2Fplan" "http://127.0.0.1:$PORT/login"
  COOKIE=$(awk '$6=="kp_session"{print $7}' "$jar")
  # The first page is the one the floors answer again.
  curl -s -o /dev/null -H 'Accept-Encoding: gzip' -b "kp_session=$COOKIE" "http://127.0.0.1:$PORT/progress"
}

row() {  # row NAME WRK-OUTPUT: one line of the table
  awk -v name="$1" '
    /Requests\/sec/ { rate = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-34s %10s/s  p50 %8s  p99 %8s%s\n", name, rate, p50, p99, (bad ? "  NON-2XX: " bad : "") }' "$2"
}

results="$work/results"
: > "$results"
for floor in page no-render no-render-no-gzip no-read; do
  start "$floor"
  echo "== GET /progress, $floor, $CONNS connections, ${DUR}s"
  KP_COOKIE=$COOKIE wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s bench/get.lua "http://127.0.0.1:$PORT/progress" > "$work/out"
  row "GET /progress ($floor)" "$work/out" | tee -a "$results"
done
echo "== GET /static/style.css, $CONNS connections, ${DUR}s"
KP_COOKIE=$COOKIE wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s bench/get.lua "http://127.0.0.1:$PORT/static/style.css" > "$work/out"
row "GET /static/style.css" "$work/out" | tee -a "$results"
start checkin-no-work
echo "== POST /checkin, checkin-no-work, $CONNS connections, ${DUR}s"
KP_TOKENS="$work/tokens.txt" KP_TODAY=$TODAY KP_THREADS=2 wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -s bench/checkin.lua "http://127.0.0.1:$PORT/" > "$work/out"
row "POST /checkin (checkin-no-work)" "$work/out" | tee -a "$results"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""

echo "== bare SQLite insert, same settings, ${DUR}s"
"$BIN" bench-insert --database "$DB" --seconds "$DUR" --concurrency "$CONNS" | tee -a "$results"
echo
echo "== summary"
cat "$results"
