-- Extended statistics objects of the given schemas (PostgreSQL 10+), by the names
-- pgferry gives them on the target; they have a namespace of their own.
-- $1: text[] of schema names.
SELECT 'statistics'::text AS kind, n.nspname::text AS schema, s.stxname::text AS name, NULL::text AS args
FROM pg_catalog.pg_statistic_ext s
JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_statistic_ext'::regclass AND d.objid = s.oid AND d.deptype = 'e')
