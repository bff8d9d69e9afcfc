-- Operator families and classes in user schemas, not owned by extensions, and
-- their members (pg_amop operators, pg_amproc support functions). Three queries
-- separated by a line holding only `;;`.
-- $1: text[] of schema names.
--
-- 1. Operator families.
SELECT f.oid::int8 AS oid, n.nspname::text AS schema, f.opfname::text AS name,
       am.amname::text AS am,
       pg_catalog.obj_description(f.oid, 'pg_opfamily') AS comment
FROM pg_catalog.pg_opfamily f
JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_opfamily'::regclass AND d.objid = f.oid AND d.deptype = 'e')
ORDER BY n.nspname, f.opfname, f.oid
;;
-- 2. Operator classes, with their family and STORAGE type.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.opcname::text AS name,
       am.amname::text AS am, c.opcdefault AS is_default,
       pg_catalog.format_type(c.opcintype, NULL) AS for_type,
       c.opcfamily::int8 AS family_oid,
       pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(f.opfname) AS family,
       CASE WHEN c.opckeytype <> 0 THEN pg_catalog.format_type(c.opckeytype, NULL) END AS storage,
       pg_catalog.obj_description(c.oid, 'pg_opclass') AS comment
FROM pg_catalog.pg_opclass c
JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_opclass'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.opcname, c.oid
;;
-- 3. Members: operators and support functions, each with the class or family
-- that owns it (pg_depend: a class's own members depend on the class, loose
-- family members on the family), as pg_dump's dumpOpclass/dumpOpfamily read them.
-- `what` is regoperator/regprocedure text (qualified, with argument types).
SELECT d.refobjid::int8 AS owner, 'OPERATOR' AS kind, ao.amopstrategy::int4 AS num,
       pg_catalog.format_type(ao.amoplefttype, NULL) AS left_type,
       pg_catalog.format_type(ao.amoprighttype, NULL) AS right_type,
       ao.amopopr::regoperator::text AS what,
       (SELECT pg_catalog.quote_ident(sn.nspname) || '.' || pg_catalog.quote_ident(sf.opfname)
        FROM pg_catalog.pg_opfamily sf JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace
        WHERE sf.oid = ao.amopsortfamily) AS sort_family
FROM pg_catalog.pg_amop ao
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amop'::regclass AND d.objid = ao.oid
     AND d.refclassid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass)
WHERE d.refobjid = ANY($1::int8[]::oid[])
UNION ALL
SELECT d.refobjid::int8, 'FUNCTION', ap.amprocnum::int4,
       pg_catalog.format_type(ap.amproclefttype, NULL),
       pg_catalog.format_type(ap.amprocrighttype, NULL),
       ap.amproc::regprocedure::text, NULL
FROM pg_catalog.pg_amproc ap
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amproc'::regclass AND d.objid = ap.oid
     AND d.refclassid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass)
WHERE d.refobjid = ANY($1::int8[]::oid[])
ORDER BY 1, 2 DESC, 3, 4, 5
