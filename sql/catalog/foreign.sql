-- Foreign-data wrappers, servers, user mappings and foreign tables, one row
-- each, as (kind, oid, name, a, b, c, options, comment); options are already
-- rendered as `key 'value', ...` (pg_options_to_table). Extension members are
-- left out (CREATE EXTENSION makes them).
-- kind 'w' wrapper: a handler, b validator (regproc text, NULL when none).
-- kind 's' server: a wrapper (quoted), b TYPE, c VERSION.
-- kind 'u' user mapping: name the role ('public' for PUBLIC), a server (quoted),
--   c 'password' when a password option was left out (never read back).
-- kind 'f' foreign table: name schema.table (quoted), a server (quoted),
--   b the partition parent (quoted) and c its bound when it is a partition.
-- $1: text[] of schema names (foreign tables).
WITH ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e')
SELECT 'w' AS kind, w.oid::int8 AS oid, w.fdwname::text AS name,
       NULLIF(w.fdwhandler, 0)::regproc::text AS a, NULLIF(w.fdwvalidator, 0)::regproc::text AS b,
       NULL::text AS c,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ')
        FROM pg_catalog.pg_options_to_table(w.fdwoptions) o) AS options,
       pg_catalog.obj_description(w.oid, 'pg_foreign_data_wrapper') AS comment
FROM pg_catalog.pg_foreign_data_wrapper w
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_foreign_data_wrapper'::regclass AND ext.objid = w.oid)
UNION ALL
SELECT 's', s.oid::int8, s.srvname::text, pg_catalog.quote_ident(w.fdwname), s.srvtype, s.srvversion,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ')
        FROM pg_catalog.pg_options_to_table(s.srvoptions) o),
       pg_catalog.obj_description(s.oid, 'pg_foreign_server')
FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_foreign_server'::regclass AND ext.objid = s.oid)
UNION ALL
SELECT 'u', u.umid::int8, u.usename::text, pg_catalog.quote_ident(u.srvname), NULL,
       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_options_to_table(u.umoptions) o WHERE o.option_name = 'password')
            THEN 'password' END,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ')
        FROM pg_catalog.pg_options_to_table(u.umoptions) o WHERE o.option_name <> 'password'),
       NULL
FROM pg_catalog.pg_user_mappings u
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_foreign_server'::regclass AND ext.objid = u.srvid)
UNION ALL
SELECT 'f', c.oid::int8, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
       pg_catalog.quote_ident(s.srvname),
       (SELECT pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(p.relname)
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid AND c.relispartition),
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ')
        FROM pg_catalog.pg_options_to_table(ft.ftoptions) o),
       pg_catalog.obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_foreign_table ft
JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::regclass AND ext.objid = c.oid)
ORDER BY 1, 3
