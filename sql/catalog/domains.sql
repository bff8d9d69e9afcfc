-- Domains. base_sql is format_type() of the base type with its typmod (a domain
-- over a domain, an array or an enum is rendered the same way); collation only
-- when it differs from the base type's; default_sql is pg_get_expr() of the
-- parsed default, so its names are qualified. $1: text[] of schema names.
SELECT t.oid::int8 AS oid, n.nspname::text AS schema, t.typname::text AS name,
       pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base_sql,
       CASE WHEN t.typcollation <> bt.typcollation AND t.typcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
       pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default_sql,
       t.typnotnull AS not_null,
       pg_catalog.obj_description(t.oid, 'pg_type') AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'd' AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
