-- User-created collations. $1: text[] of schema names. Version-dependent
-- columns are read through to_jsonb(c) (sql/README.md): collisdeterministic
-- (12+), the ICU/builtin locale (colliculocale on 15-16, colllocale on 17+,
-- collcollate of an ICU collation before 15), collicurules (16+).
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.collname::text AS name,
       c.collprovider::text AS provider,
       c.collcollate::text AS collate, c.collctype::text AS ctype,
       COALESCE(j->>'colllocale', j->>'colliculocale',
                CASE WHEN c.collprovider = 'i' AND NOT j ? 'colliculocale' AND NOT j ? 'colllocale'
                     THEN c.collcollate::text END) AS locale,
       COALESCE((j->>'collisdeterministic')::bool, true) AS deterministic,
       j->>'collicurules' AS rules,
       pg_catalog.obj_description(c.oid, 'pg_collation') AS comment
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
CROSS JOIN LATERAL (SELECT pg_catalog.to_jsonb(c) AS j) x
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_collation'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.collname
