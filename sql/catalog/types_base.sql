-- Base types created with CREATE TYPE name (INPUT = ..., OUTPUT = ...) outside
-- any extension. Their I/O functions are written in C, so they cannot be
-- created on a target pgferry has no file access to: they are reported as
-- skipped, with everything that uses them. Shell types (not yet defined) and
-- the array types PostgreSQL makes for each type are left out.
-- $1: text[] of schema names.
SELECT t.oid::int8 AS oid, n.nspname::text AS schema, t.typname::text AS name,
       t.typinput::regproc::text AS input, t.typoutput::regproc::text AS output
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'b' AND t.typisdefined AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
