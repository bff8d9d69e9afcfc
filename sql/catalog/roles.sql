-- Roles of the source with the attributes CREATE ROLE sets (never a
-- password: managed sources do not expose them), and the roles each is a
-- member of, for `migrate --create-roles`.
SELECT r.rolname::text AS name, r.rolsuper AS superuser, r.rolinherit AS inherit,
       r.rolcreaterole AS createrole, r.rolcreatedb AS createdb, r.rolcanlogin AS login,
       r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
       r.rolconnlimit::int4 AS connlimit,
       r.rolvaliduntil::text AS valid_until,
       ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m
             JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY 1) AS member_of
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY 1
