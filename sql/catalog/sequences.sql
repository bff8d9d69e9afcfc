-- Sequences (10+ has pg_sequence), with the column that owns them, if any.
-- Identity sequences are included (is_identity): they are created with their column,
-- but their options and value are read here.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name,
       pg_catalog.format_type(s.seqtypid, NULL) AS type_sql,
       s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max,
       s.seqcache AS cache, s.seqcycle AS cycle,
       c.relpersistence::text AS persistence,
       COALESCE(own.deptype = 'i', false) AS is_identity,
       own.refobjid::int8 AS owned_by_table, own_col.attname::text AS owned_by_column,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_depend own ON own.classid = 'pg_catalog.pg_class'::regclass AND own.objid = c.oid
     AND own.refclassid = 'pg_catalog.pg_class'::regclass AND own.deptype IN ('a', 'i') AND own.refobjsubid > 0
LEFT JOIN pg_catalog.pg_attribute own_col ON own_col.attrelid = own.refobjid AND own_col.attnum = own.refobjsubid
WHERE c.relkind = 'S' AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
