-- Owner and privileges (ACL) of every object pgferry creates, for
-- `migrate --keep-owners`. One row per object:
--   alter_kind/identity: what `ALTER <alter_kind> <identity> OWNER TO` needs;
--   grant_kind/grant_identity: what `GRANT ... ON <grant_kind> <grant_identity>`
--   needs (NULL for kinds without privileges: collations, operators, opclasses);
--   acl: aclexplode() of the ACL, in array order, as JSON (NULL = the defaults);
--   column_acl: per column, the same (NULL when no column has an ACL).
-- Extension members (deptype 'e') and objects made internally by their owner
-- (deptype 'i': array types, range constructors) are left out, as pgferry
-- does not create them. A partitioned table's 'i' dependency on its own
-- partition-key columns does not count: it is created, and owned, like any
-- table. (Its partitioned indexes, like every index, follow the table's owner.)
-- $1: text[] of schema names. The function kind is p.prokind on 11+, derived on 10
-- (read through to_jsonb(p), see sql/README.md).
-- The session's search_path is empty, so reg* casts and format_type qualify.
WITH ext AS (
  SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
  WHERE d.deptype = 'e'
     OR (d.deptype = 'i' AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid))
), objs AS (
  SELECT 0 AS rank, n.oid, 'SCHEMA' AS alter_kind, pg_catalog.quote_ident(n.nspname) AS identity,
         'SCHEMA' AS grant_kind, pg_catalog.quote_ident(n.nspname) AS grant_identity,
         n.nspowner AS owner, n.nspacl AS acl, NULL::oid AS relid
  FROM pg_catalog.pg_namespace n
  WHERE n.nspname = ANY($1)
    AND (n.oid) NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_namespace'::regclass)
  UNION ALL
  SELECT 1, t.oid, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
         CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname),
         t.typowner, t.typacl, NULL
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
  WHERE n.nspname = ANY($1)
    AND t.typtype IN ('b', 'c', 'd', 'e', 'r') AND t.typisdefined
    AND (t.typtype <> 'c' OR c.relkind = 'c')
    AND NOT (t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_type e
                                        WHERE e.oid = t.typelem AND e.typarray = t.oid))
    AND t.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_type'::regclass)
  UNION ALL
  SELECT 2, p.oid,
         CASE k.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
         CASE k.prokind
           WHEN 'a' THEN pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
                         || '(' || COALESCE(NULLIF(pg_catalog.pg_get_function_identity_arguments(p.oid), ''), '*') || ')'
           WHEN 'p' THEN proc.identity
           ELSE p.oid::pg_catalog.regprocedure::text END,
         CASE k.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
         CASE k.prokind WHEN 'p' THEN proc.identity ELSE p.oid::pg_catalog.regprocedure::text END,
         p.proowner, p.proacl, NULL
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  CROSS JOIN LATERAL (SELECT COALESCE(j->>'prokind',
                               CASE WHEN (j->>'proisagg')::bool THEN 'a'
                                    WHEN (j->>'proiswindow')::bool THEN 'w' ELSE 'f' END) AS prokind
                      FROM (SELECT pg_catalog.to_jsonb(p) AS j) x) k
  -- A procedure is named with its argument modes: on 14+ its OUT arguments
  -- are part of its identity, so the input types alone can match two.
  CROSS JOIN LATERAL (SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
                             || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
                             AS identity) proc
  WHERE n.nspname = ANY($1)
    AND p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_proc'::regclass)
  UNION ALL
  SELECT 3, c.oid, 'COLLATION', pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.collname),
         NULL, NULL, c.collowner, NULL, NULL
  FROM pg_catalog.pg_collation c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
  WHERE n.nspname = ANY($1)
    AND c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_collation'::regclass)
  UNION ALL
  SELECT 4, o.oid, 'OPERATOR',
         pg_catalog.quote_ident(n.nspname) || '.' || o.oprname || ' ('
           || COALESCE(pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', '
           || COALESCE(pg_catalog.format_type(NULLIF(o.oprright, 0), NULL), 'NONE') || ')',
         NULL, NULL, o.oprowner, NULL, NULL
  FROM pg_catalog.pg_operator o
  JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
  WHERE n.nspname = ANY($1)
    -- A shell operator (named as another's commutator or negator, never
    -- defined) is not created, as by pg_dump: the target makes its own shell.
    AND o.oprcode <> 0
    AND o.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_operator'::regclass)
  UNION ALL
  SELECT 5, f.oid, 'OPERATOR FAMILY',
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(f.opfname)
           || ' USING ' || pg_catalog.quote_ident(a.amname),
         NULL, NULL, f.opfowner, NULL, NULL
  FROM pg_catalog.pg_opfamily f
  JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
  JOIN pg_catalog.pg_am a ON a.oid = f.opfmethod
  WHERE n.nspname = ANY($1)
    AND f.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_opfamily'::regclass)
  UNION ALL
  SELECT 6, oc.oid, 'OPERATOR CLASS',
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(oc.opcname)
           || ' USING ' || pg_catalog.quote_ident(a.amname),
         NULL, NULL, oc.opcowner, NULL, NULL
  FROM pg_catalog.pg_opclass oc
  JOIN pg_catalog.pg_namespace n ON n.oid = oc.opcnamespace
  JOIN pg_catalog.pg_am a ON a.oid = oc.opcmethod
  WHERE n.nspname = ANY($1)
    AND oc.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_opclass'::regclass)
  UNION ALL
  -- Sequences last: ALTER TABLE already gave a table's owned sequences its owner.
  SELECT CASE c.relkind WHEN 'S' THEN 8 ELSE 7 END, c.oid,
         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                        WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
         CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
         pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),
         c.relowner, c.relacl, c.oid
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_class'::regclass)
)
SELECT o.oid::int8 AS oid, o.alter_kind, o.identity, o.grant_kind, o.grant_identity,
       pg_catalog.pg_get_userbyid(o.owner)::text AS owner,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'grantor', pg_catalog.pg_get_userbyid(x.grantor)::text,
                 'grantee', CASE WHEN x.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
                 'privilege', x.privilege_type, 'grantable', x.is_grantable) ORDER BY x.i)
        FROM pg_catalog.aclexplode(o.acl) WITH ORDINALITY x(grantor, grantee, privilege_type, is_grantable, i))
         AS acl_json,
       o.acl IS NOT NULL AS has_acl,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'column', a.attname::text,
                 'grantor', pg_catalog.pg_get_userbyid(x.grantor)::text,
                 'grantee', CASE WHEN x.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
                 'privilege', x.privilege_type, 'grantable', x.is_grantable) ORDER BY a.attnum, x.i)
        FROM pg_catalog.pg_attribute a,
             pg_catalog.aclexplode(a.attacl) WITH ORDINALITY x(grantor, grantee, privilege_type, is_grantable, i)
        WHERE a.attrelid = o.relid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL)
         AS column_acl_json
FROM objs o
ORDER BY o.rank, o.identity
