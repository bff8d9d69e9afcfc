-- Dependencies between user objects, as (object, referenced object) oid pairs,
-- with sub-objects folded into the object that owns them: a column default or a
-- constraint into its table (or domain), a view's rewrite rule into the view, a
-- table's row type and an array type into the table or element type, a
-- multirange into its range type. Only
-- normal and automatic dependencies order creation (not OWNED BY); extension membership and
-- internal links do not. Rules other than views' _RETURN rules, triggers and
-- policies keep their own oids: they are post-data steps of their own, and what
-- they use must not reorder their table.
WITH raw AS (
    SELECT d.classid, d.objid, d.refclassid, d.refobjid
    FROM pg_catalog.pg_depend d
    WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384
      -- a sequence OWNED BY a column: set after the table, not a creation order
      AND NOT (d.deptype = 'a' AND d.classid = 'pg_catalog.pg_class'::regclass
               AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0)
),
-- The object that owns a type: a row type's table (or composite type's pg_class
-- entry), an array's element type, a multirange's range type (14+, linked by an
-- internal dependency), an array of any of those to the same owner.
type_owner AS (
    SELECT t.oid,
           CASE WHEN e.typrelid <> 0 THEN e.typrelid
                WHEN e.typtype = 'm' THEN COALESCE(
                    (SELECT d.refobjid FROM pg_catalog.pg_depend d
                     WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = e.oid
                       AND d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype = 'i'), e.oid)
                ELSE e.oid END AS owner
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_type e
      ON e.oid = CASE WHEN t.typelem <> 0 AND t.typcategory = 'A' THEN t.typelem ELSE t.oid END
    WHERE t.oid >= 16384
),
folded AS (
    SELECT
        CASE r.classid
            WHEN 'pg_catalog.pg_attrdef'::regclass THEN ad.adrelid
            -- a view's _RETURN rule is the view; other rules are objects of their own (post-data)
            WHEN 'pg_catalog.pg_rewrite'::regclass THEN CASE WHEN rw.rulename = '_RETURN' THEN rw.ev_class ELSE rw.oid END
            -- an operator class's or family's operators and support functions: into the family
            WHEN 'pg_catalog.pg_amop'::regclass THEN ao.amopfamily
            WHEN 'pg_catalog.pg_amproc'::regclass THEN ap.amprocfamily
            -- a CHECK constraint is created with its table or domain; keys, foreign keys,
            -- exclusion and trigger constraints are post-data objects of their own, so what
            -- they reference (a foreign key's other table) never reorders pre-data
            WHEN 'pg_catalog.pg_constraint'::regclass THEN CASE WHEN c.contype <> 'c' THEN c.oid
                                                                WHEN c.conrelid <> 0 THEN c.conrelid ELSE c.contypid END
            WHEN 'pg_catalog.pg_type'::regclass THEN tf.owner
            ELSE r.objid END AS obj,
        CASE r.refclassid
            WHEN 'pg_catalog.pg_type'::regclass THEN rtf.owner
            WHEN 'pg_catalog.pg_constraint'::regclass THEN CASE WHEN rc.conrelid <> 0 THEN rc.conrelid ELSE rc.contypid END
            ELSE r.refobjid END AS ref
    -- Joins, not correlated subqueries: those scanned type_owner once per
    -- dependency, which took seconds on a database of thousands of tables.
    FROM raw r
    LEFT JOIN pg_catalog.pg_attrdef ad ON r.classid = 'pg_catalog.pg_attrdef'::regclass AND ad.oid = r.objid
    LEFT JOIN pg_catalog.pg_rewrite rw ON r.classid = 'pg_catalog.pg_rewrite'::regclass AND rw.oid = r.objid
    LEFT JOIN pg_catalog.pg_amop ao ON r.classid = 'pg_catalog.pg_amop'::regclass AND ao.oid = r.objid
    LEFT JOIN pg_catalog.pg_amproc ap ON r.classid = 'pg_catalog.pg_amproc'::regclass AND ap.oid = r.objid
    LEFT JOIN pg_catalog.pg_constraint c ON r.classid = 'pg_catalog.pg_constraint'::regclass AND c.oid = r.objid
    LEFT JOIN type_owner tf ON r.classid = 'pg_catalog.pg_type'::regclass AND tf.oid = r.objid
    LEFT JOIN type_owner rtf ON r.refclassid = 'pg_catalog.pg_type'::regclass AND rtf.oid = r.refobjid
    LEFT JOIN pg_catalog.pg_constraint rc ON r.refclassid = 'pg_catalog.pg_constraint'::regclass AND rc.oid = r.refobjid
)
SELECT DISTINCT obj::int8 AS obj, ref::int8 AS ref FROM folded
WHERE obj IS NOT NULL AND ref IS NOT NULL AND obj <> ref
