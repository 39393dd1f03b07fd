#!/usr/bin/env bash
# Property-based API test: schemathesis (PyPI) generates requests from the
# OpenAPI document at /api/v1/openapi.json and sends them, with a write
# token of the demo patient, to a server on 127.0.0.1 (a fresh SQLite
# file). Fails on any server error or response that breaks the document.
# Usage: scripts/api-fuzz.sh BIN VENV   (bounded: MAX_EXAMPLES per operation)
set -euo pipefail
BIN=$1
VENV=$2
MAX_EXAMPLES=${MAX_EXAMPLES:-40}
"$VENV/bin/pip" install -q "schemathesis==4.*"
work=$(mktemp -d)
DB="sqlite://$work/fuzz.db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" demo --database "$DB" >/dev/null
TOKEN=$("$BIN" user token --database "$DB" --email demo@kneepath.local --name schemathesis --scope write)
"$BIN" serve --database "$DB" --addr "127.0.0.1:$PORT" > "$work/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
timeout 600 "$VENV/bin/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 10 \
  --no-color
