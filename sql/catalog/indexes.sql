-- Indexes of the given tables that do not implement a constraint.
-- A partition's index attached to its parent's partitioned index names that parent.
SELECT i.indexrelid::int8 AS oid, i.indrelid::int8 AS table_oid, ic.relname::text AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       ic.relkind = 'I' AS partitioned,
       COALESCE((SELECT inh.inhparent::int8 FROM pg_catalog.pg_inherits inh WHERE inh.inhrelid = i.indexrelid), 0) AS parent_oid,
       i.indisclustered AS clustered, i.indisreplident AS replica_identity,
       pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::int8[]::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = i.indexrelid
                  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
