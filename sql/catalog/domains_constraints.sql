-- CHECK constraints of domains, by name (the order pg_dump and the server use).
-- definition is pg_get_constraintdef(), which ends in NOT VALID for a
-- constraint that was never validated. NOT NULL is the domain's typnotnull
-- (17+ also catalogs it as contype 'n', which is left out here).
-- $1: int8[] of domain oids.
SELECT con.oid::int8 AS oid, con.contypid::int8 AS domain_oid, con.conname::text AS name,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       con.convalidated AS validated,
       pg_catalog.obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint con
WHERE con.contypid = ANY($1::int8[]::oid[]) AND con.contype = 'c'
ORDER BY con.contypid, con.conname
