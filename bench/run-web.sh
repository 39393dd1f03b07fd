#!/usr/bin/env bash
# Web load benchmark on 127.0.0.1 only, bounded in time: check-in POST and
# progress GET with wrk (64 connections, 30 s each), the bare-insert
# reference in the same run, server peak memory and page sizes.
# Usage: bash bench/run-web.sh   (needs Debian's wrk and time; installs them if missing)
#        KNEEPATH_BIN=./kneepath-old bash bench/run-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kneepath-target}
{ command -v wrk && [ -x /usr/bin/time ]; } >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk time >/dev/null; }
# KNEEPATH_BIN=/path/to/kneepath measures that binary instead (to compare
# two builds on one machine, one after the other).
if [ -n "${KNEEPATH_BIN:-}" ]; then
  BIN=$KNEEPATH_BIN
else
  cargo build --release --locked -q -p kneepath
  BIN="$CARGO_TARGET_DIR/release/kneepath"
fi
DUR=${DUR:-30}
CONNS=${CONNS:-64}
# 15 days x PATIENTS new (patient, day) pairs: enough for about 20,000
# check-ins/s for 30 s. Refused duplicates are counted apart, below.
PATIENTS=${PATIENTS:-40000}
TODAY=2026-11-24
work=$(mktemp -d)
DB="sqlite://$work/bench.db"
PORT=38181

echo "== seeding $PATIENTS patients (plans started 14 days ago) and the demo patient"
"$BIN" seed --database "$DB" --patients "$PATIENTS" --today "$TODAY" --sessions "$work/tokens.txt" 2>/dev/null

"$BIN" serve --database "$DB" --addr 127.0.0.1:$PORT --today $TODAY --demo > "$work/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

# Log the demo patient in (8 weeks of check-ins) for the page GETs.
jar="$work/jar"
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&email=demo%40kneepath.local&password=demo-knee-2026&next=%2Fplan" "http://127.0.0.1:$PORT/login"
COOKIE=$(awk '$6=="kp_session"{print $7}' "$jar")

echo "== page sizes (bytes transferred with gzip / uncompressed), demo patient"
for p in / /login /signup /plan /checkin /progress /assessments /account /assess/1; do
  gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -b "kp_session=$COOKIE" "http://127.0.0.1:$PORT$p")
  raw=$(curl -s -o /dev/null -w '%{size_download}' -b "kp_session=$COOKIE" "http://127.0.0.1:$PORT$p")
  printf '%-14s %7s %7s\n' "$p" "$gz" "$raw"
done

# CPU time of each of the server's threads (by name) and of wrk, in clock
# ticks, before and after a load phase; printed as microseconds per request.
ticks() {
  for t in /proc/$SERVER/task/*; do
    printf '%s %s\n' "$(tr ' ' _ < "$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
  done
}
load() {  # load FILE wrk-arguments...: run wrk, print its figures and the CPU per request
  ticks > "$work/ticks.before"
  /usr/bin/time -f 'wrk %U %S' -o "$work/wrk.cpu" wrk "${@:2}" > "$1"
  ticks > "$work/ticks.after"
  grep -E 'Requests/sec|50%|99%|Non-2xx|requests in' "$1"
  local n hz
  n=$(awk '/requests in/ {print $1}' "$1")
  hz=$(getconf CLK_TCK)
  awk -v n="$n" -v hz="$hz" '
    FILENAME ~ /before/ { a[$1] += $2; next }
    FILENAME ~ /after/  { b[$1] += $2; next }
    /^wrk/ { w = ($2 + $3) * 1e6 / n }
    END {
      printf "CPU per request:"
      for (k in b) if (b[k] > a[k]) printf " %s %.1f µs,", k, (b[k] - a[k]) * 1e6 / hz / n
      printf " wrk %.1f µs\n", w
    }' "$work/ticks.before" "$work/ticks.after" "$work/wrk.cpu"
}

echo "== GET /progress, $CONNS connections, ${DUR}s"
KP_COOKIE=$COOKIE load "$work/progress.txt" -t2 -c"$CONNS" -d"${DUR}s" --latency -s bench/get.lua "http://127.0.0.1:$PORT/progress"

echo "== POST /checkin, $CONNS connections, ${DUR}s"
before=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
KP_TOKENS="$work/tokens.txt" KP_TODAY=$TODAY KP_THREADS=2 load "$work/checkin.txt" -t2 -c"$CONNS" -d"${DUR}s" --latency -s bench/checkin.lua "http://127.0.0.1:$PORT/"
# A request for a (patient, day) pair already used is refused (cheaply):
# the rate that counts is that of stored check-ins.
awk -v dur="$DUR" '/requests in/ {n = $1} /Non-2xx/ {bad = $NF} END {
  printf "stored check-ins: %d of %d requests, %.0f/s\n", n - bad, n, (n - bad) / dur
  if (bad > 0) print "WARNING: " bad " check-ins were refused (pairs used up): raise PATIENTS"
}' "$work/checkin.txt"
echo "server peak memory (VmHWM): $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}') (before check-ins: $((before/1024)) MiB)"
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== bare SQLite insert, same settings (WAL, synchronous=NORMAL, same pool), $CONNS tasks, ${DUR}s"
"$BIN" bench-insert --database "$DB" --seconds "$DUR" --concurrency "$CONNS"
