-- Row-level security policies of relations in user schemas not owned by
-- extensions. polcmd is r (SELECT), a (INSERT), w (UPDATE), d (DELETE) or *
-- (ALL); polroles is {0} for PUBLIC, read here as an empty list. Expressions are
-- rendered by the server (pg_get_expr), schema-qualified.
-- $1: text[] of schema names to read.
SELECT p.oid::int8 AS oid, p.polrelid::int8 AS table_oid,
       n.nspname::text AS schema, c.relname::text AS table_name,
       p.polname::text AS name, p.polcmd::text AS cmd, p.polpermissive AS permissive,
       ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r
             WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname) AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_sql,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check_sql,
       pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
FROM pg_catalog.pg_policy p
JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, p.polname
