-- Relations of the given schemas (tables, partitioned tables, materialized
-- views, indexes, partitioned indexes) that live outside the database's
-- default tablespace, with that tablespace's name.
-- reltablespace 0 means the database's default (pg_database.dattablespace).
-- A relation can also name dattablespace itself (one left explicitly in a
-- tablespace that ALTER DATABASE ... SET TABLESPACE made the default later):
-- it is in the default all the same, and read as such.
-- PostgreSQL 10 and 11 keep no tablespace for partitioned tables (always 0).
-- Extension members are not filtered: the rows are looked up by oid, for the
-- relations the model holds.
-- $1: text[] of schema names.
SELECT c.oid::int8 AS oid, ts.spcname::text AS tablespace
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I')
  AND n.nspname = ANY($1)
  AND c.reltablespace <> (SELECT d.dattablespace FROM pg_catalog.pg_database d
                          WHERE d.datname = pg_catalog.current_database())
ORDER BY 1
