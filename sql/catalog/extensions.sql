-- Extensions (database-wide), except plpgsql, which every server has built in.
-- Their member objects are read by no family: CREATE EXTENSION makes them.
SELECT e.oid::int8 AS oid, e.extname::text AS name, n.nspname::text AS schema,
       e.extversion::text AS version,
       pg_catalog.obj_description(e.oid, 'pg_extension') AS comment
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.oid
