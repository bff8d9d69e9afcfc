-- Objects that use a column of a table, from pg_depend's column-level entries:
-- indexes, constraints (the referencing and the referenced columns of a foreign
-- key), views and rules (a view's _RETURN rule is the view), triggers (WHEN and
-- UPDATE OF), policies, generated-column expressions, and sequences owned by
-- or behind (identity) a column. Column selection leaves each of them out.
SELECT CASE d.classid
           WHEN 'pg_catalog.pg_rewrite'::regclass THEN
               (SELECT CASE WHEN rw.rulename = '_RETURN' THEN rw.ev_class ELSE rw.oid END
                FROM pg_catalog.pg_rewrite rw WHERE rw.oid = d.objid)
           ELSE d.objid END::int8 AS obj,
       CASE d.classid
           WHEN 'pg_catalog.pg_constraint'::regclass THEN 'constraint'
           WHEN 'pg_catalog.pg_rewrite'::regclass THEN 'view or rule'
           WHEN 'pg_catalog.pg_trigger'::regclass THEN 'trigger'
           WHEN 'pg_catalog.pg_policy'::regclass THEN 'policy'
           WHEN 'pg_catalog.pg_attrdef'::regclass THEN 'default'
           WHEN 'pg_catalog.pg_class'::regclass THEN
               (SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
                                      WHEN 'I' THEN 'index' ELSE 'relation' END
                FROM pg_catalog.pg_class c WHERE c.oid = d.objid)
           ELSE 'other' END AS kind,
       d.refobjid::int8 AS table_oid,
       d.refobjsubid::int4 AS attnum,
       -- a default or generation expression: the column it belongs to
       COALESCE((SELECT ad.adnum::int4 FROM pg_catalog.pg_attrdef ad
                 WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass AND ad.oid = d.objid), 0) AS owner_attnum
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p')
WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
  AND d.deptype IN ('n', 'a', 'i') AND d.objid >= 16384
