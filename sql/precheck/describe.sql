-- Names objects given by oid (relations, routines, types), for messages.
-- $1: int8[] of oids. Run with an empty search_path, so every name is qualified.
SELECT o AS oid,
       COALESCE(
         (SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
                                WHEN 'i' THEN 'index ' WHEN 'I' THEN 'index ' WHEN 'f' THEN 'foreign table '
                                WHEN 'c' THEN 'type ' ELSE 'table ' END || c.oid::regclass::text
          FROM pg_catalog.pg_class c WHERE c.oid = o::oid),
         (SELECT 'function ' || p.oid::regprocedure::text FROM pg_catalog.pg_proc p WHERE p.oid = o::oid),
         (SELECT 'type ' || pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t WHERE t.oid = o::oid),
         (SELECT 'trigger ' || tg.tgname || ' on ' || tg.tgrelid::regclass::text
          FROM pg_catalog.pg_trigger tg WHERE tg.oid = o::oid)
       ) AS label
FROM unnest($1::int8[]) AS o
ORDER BY 2
