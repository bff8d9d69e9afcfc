#!/usr/bin/env bash
# The floor of a one-stream migration, for bench/run.sh's `floor` and
# `floor_analyze` tools: what no tool copying one table at a time through
# PostgreSQL's own COPY can beat on the same servers.
#   pre-data:  pg_dump --section=pre-data | psql
#   data:      per table, one COPY ... TO STDOUT (FORMAT binary) piped into
#              COPY ... FROM STDIN (FORMAT binary, FREEZE) after TRUNCATE in
#              the same transaction (no hint bits to set later, no WAL for
#              the TRUNCATE's old file), synchronous_commit off
#   post-data: pg_dump --section=post-data | psql (indexes, keys)
#   ANALYZE of every table when ANALYZE=1 (pgferry's default; pg_dump | psql
#   does not run it)
# Usage: bench/floor.sh SOURCE_URI TARGET_URI ANALYZE(0|1)
set -euo pipefail
src="$1" dst="$2" analyze="$3"
pg_dump --section=pre-data "$src" | psql -X -q -v ON_ERROR_STOP=1 -d "$dst" >/dev/null
tables="$(psql -X -At -d "$src" -c "
    SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'
    ORDER BY pg_catalog.pg_relation_size(c.oid) DESC")"
for t in $tables; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "COPY $t TO STDOUT (FORMAT binary)" |
        psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -c "SET synchronous_commit = off" -c "BEGIN" \
            -c "TRUNCATE $t" -c "COPY $t FROM STDIN (FORMAT binary, FREEZE)" -c "COMMIT"
done
pg_dump --section=post-data "$src" | psql -X -q -v ON_ERROR_STOP=1 -d "$dst" >/dev/null
if [ "$analyze" = 1 ]; then
    for t in $tables; do psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -c "ANALYZE $t"; done
fi
