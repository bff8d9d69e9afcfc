-- Columns of the given tables, in physical order, dropped columns left out.
-- $1: int8[] of table oids. attgenerated exists on 12+ ('' before): read through
-- to_jsonb(a) so that one file runs on every version (sql/README.md); it is
-- 's' (stored) or, on 18+, 'v' (virtual).
SELECT a.attrelid::int8 AS table_oid, a.attnum::int4 AS num, a.attname::text AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_sql,
       a.atttypid::int8 AS type_oid,
       t.typname::text AS type_name,
       -- A NOT VALID NOT NULL (18+) may have NULLs: added after the data.
       a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint nv
                                    WHERE nv.conrelid = a.attrelid AND nv.contype = 'n'
                                      AND nv.conkey[1] = a.attnum AND NOT nv.convalidated) AS not_null,
       -- 18+ names NOT NULL constraints (contype 'n'; no such rows before).
       (SELECT nn.conname::text FROM pg_catalog.pg_constraint nn
        WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey[1] = a.attnum) AS not_null_name,
       COALESCE((SELECT nn.connoinherit FROM pg_catalog.pg_constraint nn
                 WHERE nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey[1] = a.attnum), false)
         AS not_null_no_inherit,
       -- reg* types are OIDs in binary form: only their text form (names) means
       -- the same thing on the target.
       (a.atttypid < 16384 AND t.typsend <> 0 AND t.typreceive <> 0 AND t.typname !~ '^_?reg')
           AS binary_ok,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_sql,
       a.attidentity::text AS identity,
       COALESCE(pg_catalog.to_jsonb(a)->>'attgenerated', '') AS generated,
       -- 14+: 'p' pglz, 'l' lz4 when set on the column ('' or absent: the default).
       COALESCE(pg_catalog.to_jsonb(a)->>'attcompression', '') AS compression,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
       a.attislocal AS is_local, a.attinhcount::int4 AS inh_count,
       a.attstorage::text AS storage, t.typstorage::text AS type_storage,
       COALESCE(a.attstattarget::int4, -1) AS stat_target,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment,
       COALESCE(a.attoptions, '{}')::text[] AS options
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
