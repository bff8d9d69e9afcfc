-- Extended statistics objects (CREATE STATISTICS, 10+) on the tables read,
-- rendered by the server. Created after the data, like indexes; ANALYZE at the
-- end of the migration fills them.
-- $1: int8[] of table oids.
SELECT s.oid::int8 AS oid, s.stxrelid::int8 AS table_oid, n.nspname::text AS schema,
       s.stxname::text AS name, pg_catalog.pg_get_statisticsobjdef(s.oid) AS definition,
       pg_catalog.obj_description(s.oid, 'pg_statistic_ext') AS comment
FROM pg_catalog.pg_statistic_ext s
JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxrelid = ANY($1::int8[]::oid[])
ORDER BY n.nspname, s.stxname
