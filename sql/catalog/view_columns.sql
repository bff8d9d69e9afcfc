-- Columns of the given views and materialized views, in order: the names come
-- with the view definition; what is read here is what CREATE VIEW cannot say:
-- defaults set with ALTER VIEW ... ALTER COLUMN ... SET DEFAULT, statistics
-- targets of materialized view columns, and comments.
-- attstattarget is -1 for "default" before 17 and NULL from 17 on.
-- $1: oids of the views.
SELECT a.attrelid::int8 AS view_oid, a.attname::text AS name,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_sql,
       COALESCE(a.attstattarget, -1)::int4 AS stat_target,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
