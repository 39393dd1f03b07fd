#!/usr/bin/env bash
# Scale benchmark on 127.0.0.1 only, bounded in time: seed PATIENTS patients
# x DAYS days of history with one clinician per 200 patients, then measure
# the caseload dashboard (GET /clinic) and the check-in (POST /checkin)
# with wrk (CONNS connections, DUR seconds each), the database size and the
# server's peak memory.
#
#   DB=sqlite   PATIENTS=10000 bash bench/run-scale.sh
#   DB=postgres PATIENTS=10000 bash bench/run-scale.sh   # throwaway server
#
# KNEEPATH_BIN=/path/to/kneepath measures that binary instead of HEAD's
# release build (to compare before and after a change on one machine).
#
# The history ends 15 days before "today", so the check-in POSTs fill the
# last 14 days: every request is a new (patient, day) row.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/kneepath-target}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${KNEEPATH_BIN:-}" ]; then
  BIN=$KNEEPATH_BIN
else
  cargo build --release --locked -q -p kneepath
  BIN="$CARGO_TARGET_DIR/release/kneepath"
fi
DB=${DB:-sqlite}
PATIENTS=${PATIENTS:-1000}
DAYS=${DAYS:-180}
PER=${PER:-200}
DUR=${DUR:-30}
CONNS=${CONNS:-64}
TODAY=2026-11-24
HISTORY_END=2026-11-09
work=$(mktemp -d)
PORT=${PORT:-38282}
if [ "$DB" = postgres ]; then
  source scripts/pg-throwaway
  URL="$KNEEPATH_TEST_PG_URL"
else
  URL="sqlite://$work/scale.db"
fi
CLINICIANS=$(( (PATIENTS + PER - 1) / PER ))
THREADS=$(( CONNS < 2 ? CONNS : 2 ))

echo "== $DB: seeding $PATIENTS patients x $DAYS days, $CLINICIANS clinicians"
start=$(date +%s.%N)
"$BIN" seed --database "$URL" --patients "$PATIENTS" --days "$DAYS" --today "$HISTORY_END" \
  --clinicians "$CLINICIANS" --sessions "$work/patients.txt" --clinician-sessions "$work/clinicians.txt" 2>/dev/null
echo "seed time: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
if [ "$DB" = postgres ]; then
  bytes=$(psql "$URL" -Atc "select pg_database_size(current_database())")
else
  bytes=$(( $(stat -c %s "$work/scale.db") + $(stat -c %s "$work/scale.db-wal" 2>/dev/null || echo 0) ))
fi
echo "database size: $((bytes / 1024 / 1024)) MiB, $(awk -v b="$bytes" -v p="$PATIENTS" -v d="$DAYS" 'BEGIN{printf "%.0f", b/1024/(p*d/365)}') KiB per patient-year"

"$BIN" serve --database "$URL" --addr 127.0.0.1:$PORT --today $TODAY > "$work/serve.log" 2>&1 &
SERVER=$!
# One EXIT trap for all (pg-throwaway set its own, which this replaces).
cleanup() {
  kill $SERVER 2>/dev/null || true
  rm -rf "$work"
  if declare -F pg_stop >/dev/null; then pg_stop; fi
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

# CLINICIANS_USED=N: load only the first N clinicians' dashboards (to tell
# cache effects from per-request cost).
if [ -n "${CLINICIANS_USED:-}" ]; then
  head -n "$CLINICIANS_USED" "$work/clinicians.txt" > "$work/c.txt" && mv "$work/c.txt" "$work/clinicians.txt"
fi
c1=$(head -1 "$work/clinicians.txt" | cut -d' ' -f1)
echo "dashboard page: $(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -b "kp_session=$c1" "http://127.0.0.1:$PORT/clinic") bytes gzip, $(curl -s -b "kp_session=$c1" "http://127.0.0.1:$PORT/clinic" | grep -c '<tr>') rows"

# One connection: a page's own work (its latency with no queue).
echo "== GET /clinic (200 patients each), 1 connection, ${DUR}s"
KP_TOKENS="$work/clinicians.txt" wrk -t1 -c1 -d"${DUR}s" --latency -s bench/dashboard.lua "http://127.0.0.1:$PORT/" | grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'

echo "== GET /clinic (200 patients each), $CONNS connections, ${DUR}s"
KP_TOKENS="$work/clinicians.txt" wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency -s bench/dashboard.lua "http://127.0.0.1:$PORT/" | grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'

echo "== POST /checkin, $CONNS connections, ${DUR}s"
KP_TOKENS="$work/patients.txt" KP_TODAY=$TODAY KP_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency -s bench/checkin.lua "http://127.0.0.1:$PORT/" | grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'
echo "server peak memory (VmHWM): $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MiB"}')"

# The dashboard's own work (reading and judging every patient, no HTML),
# every clinician's page in turn; with --full also a recomputation of
# each patient from their rows. Builds without the command skip it.
if "$BIN" bench-caseload --help >/dev/null 2>&1; then
  echo "== dashboard work per page (kneepath bench-caseload)"
  kill $SERVER 2>/dev/null || true
  wait $SERVER 2>/dev/null || true
  "$BIN" bench-caseload --database "$URL" --today $TODAY --rounds 5 --full
fi
