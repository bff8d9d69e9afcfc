-- Text search templates and parsers in user schemas, not owned by
-- extensions, as (kind, oid, schema, name, functions, comment): t template
-- (INIT, LEXIZE), p parser (START, GETTOKEN, END, LEXTYPES, HEADLINE). The
-- functions are regproc text (qualified when not visible), NULL when absent;
-- usually built-in ones of pg_catalog, which every server has.
-- $1: text[] of schema names.
SELECT 't' AS kind, t.oid::int8 AS oid, n.nspname::text AS schema, t.tmplname::text AS name,
       ARRAY[NULLIF(t.tmplinit, 0)::regproc::text, t.tmpllexize::regproc::text] AS functions,
       pg_catalog.obj_description(t.oid, 'pg_ts_template') AS comment
FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_ts_template'::regclass AND d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT 'p', p.oid::int8, n.nspname::text, p.prsname::text,
       ARRAY[p.prsstart::regproc::text, p.prstoken::regproc::text, p.prsend::regproc::text,
             p.prslextype::regproc::text, NULLIF(p.prsheadline, 0)::regproc::text],
       pg_catalog.obj_description(p.oid, 'pg_ts_parser')
FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_ts_parser'::regclass AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 3, 4
