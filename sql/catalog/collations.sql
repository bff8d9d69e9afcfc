-- User-created collations. $1: text[] of schema names. Version-dependent
-- columns are spliced in by the reader: {deterministic} is
-- c.collisdeterministic (12+), {locale} the ICU/builtin locale (colliculocale
-- on 15-16, colllocale on 17+, collcollate before 15), {rules} collicurules (16+).
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.collname::text AS name,
       c.collprovider::text AS provider,
       c.collcollate::text AS collate, c.collctype::text AS ctype,
       {locale}::text AS locale,
       {deterministic} AS deterministic,
       {rules}::text AS rules,
       pg_catalog.obj_description(c.oid, 'pg_collation') AS comment
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_collation'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.collname
