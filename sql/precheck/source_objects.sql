-- Objects pgferry creates on the target, by the names they get there (no renames yet):
-- relations, standalone types (multiranges too: their names are taken as the range is
-- created), routines, collations, operators, operator families and classes of the given
-- schemas, extension members left out. Casts and statistics objects: see
-- source_statistics.sql and conflicts.rs (casts are listed from the plan).
-- args: identity arguments of a routine, `left, right` types of an operator, the access
-- method of an operator family or class.
-- $1: text[] of schema names.
SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'table' END AS kind,
       n.nspname::text AS schema, c.relname::text AS name, NULL::text AS args
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f', 'c') AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'type', n.nspname::text, t.typname::text, NULL
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typrelid = 0 AND t.typtype IN ('b', 'd', 'e', 'r', 'm') AND n.nspname = ANY($1)
  AND NOT (t.typelem <> 0 AND t.typlen = -1 AND t.typname LIKE '\_%')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT 'function', n.nspname::text, p.proname::text, pg_catalog.pg_get_function_identity_arguments(p.oid)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'collation', n.nspname::text, c.collname::text, NULL
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_collation'::regclass AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'operator', n.nspname::text, o.oprname::text,
       COALESCE(pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', '
       || COALESCE(pg_catalog.format_type(NULLIF(o.oprright, 0), NULL), 'NONE')
FROM pg_catalog.pg_operator o
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e')
UNION ALL
SELECT 'operator family', n.nspname::text, f.opfname::text, a.amname::text
FROM pg_catalog.pg_opfamily f
JOIN pg_catalog.pg_am a ON a.oid = f.opfmethod
JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_opfamily'::regclass AND d.objid = f.oid AND d.deptype = 'e')
UNION ALL
SELECT 'operator class', n.nspname::text, c.opcname::text, a.amname::text
FROM pg_catalog.pg_opclass c
JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod
JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_opclass'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 2, 3, 1
