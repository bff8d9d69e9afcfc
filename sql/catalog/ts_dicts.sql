-- Text search dictionaries in user schemas, not owned by extensions, with
-- their template (quoted, qualified) and options as pg_dump writes them.
-- $1: text[] of schema names.
SELECT d.oid::int8 AS oid, n.nspname::text AS schema, d.dictname::text AS name,
       pg_catalog.quote_ident(tn.nspname) || '.' || pg_catalog.quote_ident(t.tmplname) AS template,
       d.dictinitoption AS options,
       pg_catalog.obj_description(d.oid, 'pg_ts_dict') AS comment
FROM pg_catalog.pg_ts_dict d
JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                  WHERE x.classid = 'pg_catalog.pg_ts_dict'::regclass AND x.objid = d.oid AND x.deptype = 'e')
ORDER BY n.nspname, d.dictname
