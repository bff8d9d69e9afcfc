-- How many more sessions the server lets this login open in this database:
-- max_connections less the reserved slots (superuser_reserved_connections, and
-- reserved_connections on 16+, which a superuser may use) and the client sessions
-- in use; and the role's and the database's connection limits (-1: none; a
-- superuser is not held to them). PostgreSQL 10+ (backend_type).
SELECT current_setting('max_connections')::int4 AS max_connections,
       current_setting('superuser_reserved_connections')::int4 AS superuser_reserved,
       COALESCE(NULLIF(current_setting('reserved_connections', true), ''), '0')::int4 AS reserved,
       (SELECT count(*)::int4 FROM pg_catalog.pg_stat_activity
        WHERE backend_type = 'client backend') AS in_use,
       r.rolsuper AS superuser,
       r.rolconnlimit AS role_limit,
       (SELECT count(*)::int4 FROM pg_catalog.pg_stat_activity
        WHERE backend_type = 'client backend' AND usename = current_user) AS role_in_use,
       d.datconnlimit AS database_limit,
       (SELECT count(*)::int4 FROM pg_catalog.pg_stat_activity
        WHERE backend_type = 'client backend' AND datname = current_database()) AS database_in_use
FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
WHERE r.rolname = current_user AND d.datname = current_database()
