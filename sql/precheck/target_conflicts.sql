-- Which of the objects pgferry will create already exist on the target, and as what.
-- Relations share one namespace (tables, views, sequences, indexes...), and each has a
-- row type, so a standalone type of the same name conflicts too; routines conflict
-- on name and identity arguments, operators on name and operand types, operator
-- families and classes on name and access method, casts on their two types
-- (name is `(source AS target)`), collations and statistics objects on name.
-- The found object's catalog and oid are returned for
-- sql/precheck/target_drop_order.sql; domains and aggregates are told apart
-- because they are dropped with their own statements.
-- $1 kinds, $2 schemas, $3 names, $4 identity arguments (NULL for non-routines).
SELECT x.kind, x.schema, x.name, x.args, f.found, f.classid, f.objid
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(kind, schema, name, args)
CROSS JOIN LATERAL (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' WHEN 'i' THEN 'index'
                          WHEN 'I' THEN 'index' ELSE 'table' END AS found,
           'pg_catalog.pg_class'::regclass::oid::int8 AS classid, c.oid::int8 AS objid
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE x.kind IN ('table', 'view', 'materialized view', 'sequence', 'foreign table', 'type')
      AND n.nspname = x.schema AND c.relname = x.name
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END,
           'pg_catalog.pg_type'::regclass::oid::int8, t.oid::int8
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE x.kind IN ('table', 'view', 'materialized view', 'sequence', 'foreign table', 'type')
      AND t.typrelid = 0 AND n.nspname = x.schema AND t.typname = x.name
    UNION ALL
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
                THEN 'aggregate' ELSE 'function' END,
           'pg_catalog.pg_proc'::regclass::oid::int8, p.oid::int8
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE x.kind = 'function' AND n.nspname = x.schema AND p.proname = x.name
      AND pg_catalog.pg_get_function_identity_arguments(p.oid) = x.args
    UNION ALL
    SELECT 'collation', 'pg_catalog.pg_collation'::regclass::oid::int8, c.oid::int8
    FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
    WHERE x.kind = 'collation' AND n.nspname = x.schema AND c.collname = x.name
      AND c.collencoding IN (-1, (SELECT encoding FROM pg_catalog.pg_database
                                  WHERE datname = pg_catalog.current_database()))
    UNION ALL
    SELECT 'operator', 'pg_catalog.pg_operator'::regclass::oid::int8, o.oid::int8
    FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
    WHERE x.kind = 'operator' AND n.nspname = x.schema AND o.oprname = x.name
      AND COALESCE(pg_catalog.format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', '
          || COALESCE(pg_catalog.format_type(NULLIF(o.oprright, 0), NULL), 'NONE') = x.args
    UNION ALL
    SELECT 'operator family', 'pg_catalog.pg_opfamily'::regclass::oid::int8, f.oid::int8
    FROM pg_catalog.pg_opfamily f
    JOIN pg_catalog.pg_am a ON a.oid = f.opfmethod JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
    WHERE x.kind = 'operator family' AND n.nspname = x.schema AND f.opfname = x.name AND a.amname = x.args
    UNION ALL
    SELECT 'operator class', 'pg_catalog.pg_opclass'::regclass::oid::int8, c.oid::int8
    FROM pg_catalog.pg_opclass c
    JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
    WHERE x.kind = 'operator class' AND n.nspname = x.schema AND c.opcname = x.name AND a.amname = x.args
    UNION ALL
    SELECT 'statistics', 'pg_catalog.pg_statistic_ext'::regclass::oid::int8, s.oid::int8
    FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
    WHERE x.kind = 'statistics' AND n.nspname = x.schema AND s.stxname = x.name
    UNION ALL
    SELECT 'cast', 'pg_catalog.pg_cast'::regclass::oid::int8, c.oid::int8
    FROM pg_catalog.pg_cast c
    WHERE x.kind = 'cast' AND '(' || pg_catalog.format_type(c.castsource, NULL) || ' AS '
          || pg_catalog.format_type(c.casttarget, NULL) || ')' = x.name
    LIMIT 1
) f
ORDER BY x.schema, x.name
