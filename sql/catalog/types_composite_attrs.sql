-- Attributes of composite types, in order, dropped ones left out (ALTER TYPE
-- ... DROP ATTRIBUTE leaves a hole that recreation closes; pg_dump does the same).
-- collation is given only when it differs from the attribute type's default.
-- $1: int8[] of the types' pg_class oids.
SELECT a.attrelid::int8 AS rel_oid, a.attname::text AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_sql,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
