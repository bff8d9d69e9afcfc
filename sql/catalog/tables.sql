-- Ordinary, partitioned and foreign-less tables in user schemas, not owned by extensions.
-- $1: text[] of schema names to read.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name,
       c.relkind::text AS relkind, c.relpersistence::text AS persistence,
       c.relispartition AS is_partition,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       COALESCE((SELECT array_agg(pn.nspname || '.' || p.relname ORDER BY i.inhseqno)::text[]
                 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                 JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                 WHERE i.inhrelid = c.oid), '{}') AS parents_display,
       COALESCE((SELECT array_agg(i.inhparent::int8 ORDER BY i.inhseqno) FROM pg_catalog.pg_inherits i
                 WHERE i.inhrelid = c.oid), '{}') AS parent_oids,
       COALESCE(c.reloptions, '{}')::text[] AS reloptions,
       c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
       c.relreplident::text AS replica_identity,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
       c.reltuples::float8 AS est_rows,
       pg_catalog.pg_table_size(c.oid)::int8 AS bytes
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
