-- Stand-alone composite types (CREATE TYPE ... AS (...)), not the row types of
-- tables and views. rel_oid is the pg_class entry behind the type: pg_depend
-- (sql/catalog/depends.sql) folds the type into it, so steps use that oid.
-- $1: text[] of schema names.
SELECT t.oid::int8 AS oid, t.typrelid::int8 AS rel_oid, n.nspname::text AS schema,
       t.typname::text AS name,
       pg_catalog.obj_description(t.oid, 'pg_type') AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c' AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
