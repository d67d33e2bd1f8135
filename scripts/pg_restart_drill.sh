#!/usr/bin/env bash
# PostgreSQL restart drill: clients move credits through `ewallet serve` on a fresh database of the
# local cluster while the cluster is restarted with pg_ctlcluster half-way through the load. The
# instructions in flight and those sent while the database is down answer `conflict`; the server
# reconnects by itself once it is back. Afterwards the conflicted instructions are replayed with
# their idempotency keys and every balance, ledger row and `ewallet audit` must come out exact
# (tests/reliability/restart_drill.py). Needs root (or the postgres user) for pg_ctlcluster.
#
#   scripts/pg_restart_drill.sh                     # 8 clients, 10 s of load
#   scripts/pg_restart_drill.sh --clients 16 --seconds 30 --force
#
# A restart cuts every other client of the cluster: the drill refuses to run while any is
# connected, unless --force. EWALLET_TEST_POSTGRES names the server (default postgres@127.0.0.1).
# Last line: one JSON object with the figures.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
command -v pg_lsclusters >/dev/null || { echo "pg_restart_drill: pg_lsclusters not found (Debian's postgresql-common)" >&2; exit 2; }
read -r VERSION CLUSTER < <(pg_lsclusters --no-header | awk '$3 == 5432 { print $1, $2; exit }')
[ -n "${VERSION:-}" ] || { echo "pg_restart_drill: no cluster on port 5432" >&2; exit 2; }

exec "$PYTHON" -m scripts.drills.restart_drill \
    --restart "pg_ctlcluster --skip-systemctl-redirect $VERSION $CLUSTER restart" "$@"
