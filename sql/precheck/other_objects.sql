-- Objects of kinds pgferry does not migrate, named one per row (kind, name), so
-- that precheck can list them instead of leaving them behind silently.
-- Extension members are left out: the extension brings them.
-- $1: text[] of the schemas read.
WITH ext AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
)
SELECT 'text search template' AS kind, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.tmplname) AS name
FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_template'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'text search parser', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.prsname)
FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_parser'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'tablespace of a table', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
       || ' in ' || pg_catalog.quote_ident(ts.spcname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
WHERE c.reltablespace <> 0 AND c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname = ANY($1)
UNION ALL
SELECT 'default privileges', pg_catalog.pg_get_userbyid(d.defaclrole)
       || COALESCE(' in schema ' || pg_catalog.quote_ident(n.nspname), '')
FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
ORDER BY 1, 2
