-- Columns of foreign tables, in physical order, as column definitions:
-- `head` is the name, type, column OPTIONS and collation when not the type's;
-- NOT NULL (with its name on 18+) and DEFAULT come apart (ddl::foreign).
-- $1: int8[] of foreign table oids.
SELECT a.attrelid::int8 AS table_oid,
       pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attfdwoptions IS NULL THEN '' ELSE ' OPTIONS (' ||
            (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(o.option_name) || ' ' || pg_catalog.quote_literal(o.option_value), ', ')
             FROM pg_catalog.pg_options_to_table(a.attfdwoptions) o) || ')' END
       || CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
               THEN ' COLLATE ' || pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) ELSE '' END
         AS head,
       a.attname::text AS name,
       (SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.oid = a.attrelid) AS table_name,
       a.attnotnull AS not_null,
       -- 18+ names NOT NULL constraints (contype 'n'; no such rows before).
       (SELECT nn.conname::text FROM pg_catalog.pg_constraint nn
        WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey[1] = a.attnum) AS not_null_name,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_sql
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
