-- Tables whose primary key is one integer column (smallint, integer, bigint):
-- those can be checksummed per key range, so a difference is located.
-- $1: int8[] of table oids.
SELECT c.conrelid::int8 AS table_oid, a.attname::text AS key
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'p'
  AND c.conrelid = ANY($1::int8[]::oid[])
  AND pg_catalog.array_length(c.conkey, 1) = 1
  AND a.atttypid IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype, 'pg_catalog.int8'::regtype)
