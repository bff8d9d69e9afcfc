-- Views and materialized views in user schemas, not owned by extensions.
-- The definition is the server's own rendering (pg_get_viewdef), schema-qualified
-- because the session's search_path is empty; it ends with a semicolon, which the
-- renderer strips. check_option, security_barrier and security_invoker (15+) are
-- reloptions. relispopulated tells whether a materialized view must be refreshed.
-- needs_constraint: the query relies on a constraint (GROUP BY a primary key and
-- select other columns), which exists only after post-data constraints.
-- $1: text[] of schema names to read.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.relname::text AS name,
       c.relkind::text AS relkind,
       pg_catalog.pg_get_viewdef(c.oid) AS definition,
       COALESCE(c.reloptions, '{}')::text[] AS reloptions,
       c.relispopulated AS populated,
       EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite rw
               JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
               WHERE rw.ev_class = c.oid AND d.refclassid = 'pg_catalog.pg_constraint'::regclass) AS needs_constraint,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
