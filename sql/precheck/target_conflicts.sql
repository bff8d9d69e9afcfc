-- Which of the objects pgferry will create already exist on the target, and as what.
-- Relations share one namespace (tables, views, sequences, indexes...), and each has a
-- row type, so a standalone type of the same name conflicts too; routines conflict
-- on name and identity arguments. The found object's catalog and oid are returned
-- for sql/precheck/target_drop_order.sql; domains and aggregates are told apart
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
    WHERE x.kind <> 'function' AND n.nspname = x.schema AND c.relname = x.name
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END,
           'pg_catalog.pg_type'::regclass::oid::int8, t.oid::int8
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE x.kind <> 'function' AND t.typrelid = 0 AND n.nspname = x.schema AND t.typname = x.name
    UNION ALL
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
                THEN 'aggregate' ELSE 'function' END,
           'pg_catalog.pg_proc'::regclass::oid::int8, p.oid::int8
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE x.kind = 'function' AND n.nspname = x.schema AND p.proname = x.name
      AND pg_catalog.pg_get_function_identity_arguments(p.oid) = x.args
    LIMIT 1
) f
ORDER BY x.schema, x.name
