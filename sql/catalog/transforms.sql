-- Transforms (CREATE TRANSFORM FOR type LANGUAGE lang (...)) not owned by an
-- extension: every one, as pg_dump dumps them (a transform belongs to no
-- schema; selection follows its type's schema). The type and the functions
-- are rendered by the server: format_type and regprocedure, which qualify
-- what is not in pg_catalog (sessions run with an empty search_path).
-- No parameters.
-- type_schema: the schema of the type, raw.
-- from_sql, to_sql: the FROM SQL and TO SQL functions with their argument
--   types, NULL when the transform has none.
SELECT t.oid::int8 AS oid,
       pg_catalog.format_type(t.trftype, NULL) AS type_name,
       tn.nspname::text AS type_schema,
       l.lanname::text AS language,
       CASE WHEN t.trffromsql::oid <> 0 THEN t.trffromsql::regprocedure::text END AS from_sql,
       CASE WHEN t.trftosql::oid <> 0 THEN t.trftosql::regprocedure::text END AS to_sql,
       pg_catalog.obj_description(t.oid, 'pg_transform') AS comment
FROM pg_catalog.pg_transform t
JOIN pg_catalog.pg_type ty ON ty.oid = t.trftype
JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace
JOIN pg_catalog.pg_language l ON l.oid = t.trflang
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_transform'::regclass AND d.objid = t.oid
                    AND d.deptype = 'e')
ORDER BY 2, 4
