-- The target's tablespaces among those the plan creates relations in
-- (--tablespace-map), and whether the login may create in each.
-- A name missing from the answer is a tablespace the target does not have.
-- $1: text[] of tablespace names.
SELECT t.spcname::text AS name,
       pg_catalog.has_tablespace_privilege(t.oid, 'CREATE') AS can_create
FROM pg_catalog.pg_tablespace t
WHERE t.spcname = ANY($1)
ORDER BY 1
