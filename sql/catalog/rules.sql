-- Rewrite rules that are not a view's own _RETURN rule, on relations in user
-- schemas that are not owned by extensions. pg_get_ruledef gives the complete
-- CREATE RULE statement; ev_enabled is O (origin, the default), D (disabled),
-- R (replica) or A (always).
-- $1: text[] of schema names to read.
SELECT r.oid::int8 AS oid, r.ev_class::int8 AS table_oid,
       n.nspname::text AS schema, c.relname::text AS table_name,
       r.rulename::text AS name,
       pg_catalog.pg_get_ruledef(r.oid) AS definition,
       r.ev_enabled::text AS enabled,
       pg_catalog.obj_description(r.oid, 'pg_rewrite') AS comment
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN'
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, r.rulename
