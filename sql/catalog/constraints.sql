-- Table constraints (primary key, unique, check, exclusion, foreign key); NOT NULL
-- lives on columns, except a NOT VALID one (18+), added after the data like a
-- NOT VALID check. parent_oid is con.conparentid on 11+ and 0 on 10 (read through
-- to_jsonb(con), see sql/README.md): a partition's constraint made by its parent's
-- is attached to it rather than made on its own.
SELECT con.oid::int8 AS oid, con.conrelid::int8 AS table_oid, con.conname::text AS name,
       con.contype::text AS contype, pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       con.conindid::int8 AS index_oid, COALESCE((pg_catalog.to_jsonb(con)->>'conparentid')::int8, 0) AS parent_oid,
       con.condeferrable AS deferrable, con.condeferred AS deferred,
       CASE WHEN con.contype IN ('p', 'u') THEN pg_catalog.pg_get_indexdef(con.conindid) END AS index_definition, con.confrelid::int8 AS ref_table_oid,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.o) AS key_columns,
       COALESCE((SELECT i.indisclustered FROM pg_catalog.pg_index i WHERE i.indexrelid = con.conindid
                 AND con.contype IN ('p', 'u', 'x')), false) AS index_clustered,
       COALESCE((SELECT i.indisreplident FROM pg_catalog.pg_index i WHERE i.indexrelid = con.conindid
                 AND con.contype IN ('p', 'u', 'x')), false) AS index_replica_identity,
       con.convalidated AS validated, con.conislocal AS is_local,
       -- 18+: a key WITHOUT OVERLAPS (a GiST index, which cannot be built unique alone).
       COALESCE((pg_catalog.to_jsonb(con)->>'conperiod')::bool, false) AS period,
       con.condeferrable AS deferrable, con.condeferred AS deferred,
       pg_catalog.obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = ANY($1::int8[]::oid[])
  AND (con.contype IN ('p', 'u', 'c', 'x', 'f') OR (con.contype = 'n' AND NOT con.convalidated))
ORDER BY con.conrelid, con.conname
