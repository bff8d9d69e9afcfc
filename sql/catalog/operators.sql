-- Operators (pg_operator) in user schemas, not owned by extensions, shells
-- excluded (oprcode = 0: created implicitly by another operator's COMMUTATOR or
-- NEGATOR, which recreates them on the target too).
-- Operand types are format_type() renderings (NULL for a prefix/postfix
-- operator's missing side), functions regproc text, commutator and negator
-- OPERATOR(schema.name) references.
-- $1: text[] of schema names.
SELECT o.oid::int8 AS oid, n.nspname::text AS schema, o.oprname::text AS name,
       o.oprkind::text AS kind,
       CASE WHEN o.oprleft <> 0 THEN pg_catalog.format_type(o.oprleft, NULL) END AS left_type,
       CASE WHEN o.oprright <> 0 THEN pg_catalog.format_type(o.oprright, NULL) END AS right_type,
       o.oprcode::regproc::text AS function,
       (SELECT 'OPERATOR(' || pg_catalog.quote_ident(cn.nspname) || '.' || c.oprname || ')'
        FROM pg_catalog.pg_operator c JOIN pg_catalog.pg_namespace cn ON cn.oid = c.oprnamespace
        WHERE c.oid = o.oprcom) AS commutator,
       (SELECT 'OPERATOR(' || pg_catalog.quote_ident(gn.nspname) || '.' || g.oprname || ')'
        FROM pg_catalog.pg_operator g JOIN pg_catalog.pg_namespace gn ON gn.oid = g.oprnamespace
        WHERE g.oid = o.oprnegate) AS negator,
       NULLIF(o.oprrest, 0)::regproc::text AS restrict,
       NULLIF(o.oprjoin, 0)::regproc::text AS join,
       o.oprcanhash AS hashes, o.oprcanmerge AS merges,
       pg_catalog.obj_description(o.oid, 'pg_operator') AS comment
FROM pg_catalog.pg_operator o
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE n.nspname = ANY($1)
  AND o.oprcode <> 0
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_operator'::regclass AND d.objid = o.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, o.oprname, o.oid
