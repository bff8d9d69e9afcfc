-- Indexes of the given materialized views (sql/catalog/indexes.sql reads those of
-- tables only). pg_get_indexdef gives the complete CREATE INDEX statement.
-- $1: oids of the materialized views.
SELECT i.indexrelid::int8 AS oid, i.indrelid::int8 AS matview_oid, ic.relname::text AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisclustered AS clustered,
       pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::int8[]::oid[])
ORDER BY i.indrelid, ic.relname
