-- Objects of kinds pgferry does not migrate, named one per row (kind, name), so
-- that precheck can list them instead of leaving them behind silently.
-- Extension members are left out: the extension brings them.
-- $1: text[] of the schemas read.
WITH ext AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
)
SELECT 'tablespace of a table' AS kind, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
       || ' in ' || pg_catalog.quote_ident(ts.spcname) AS name
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
WHERE c.reltablespace <> 0 AND c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname = ANY($1)
UNION ALL
SELECT 'default privileges', pg_catalog.pg_get_userbyid(d.defaclrole)
       || COALESCE(' in schema ' || pg_catalog.quote_ident(n.nspname), '')
FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
ORDER BY 1, 2
