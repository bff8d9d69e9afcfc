-- Who we are and what the database is, for the report and the encoding check.
-- {provider}: locale provider expression (datlocprovider exists on 15+).
-- {ssl}: pg_stat_ssl row of this session (9.5+), or NULLs.
SELECT pg_catalog.current_setting('server_version') AS version,
       pg_catalog.current_setting('server_version_num')::int4 AS version_num,
       current_user::text AS login,
       COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), false) AS superuser,
       pg_catalog.current_database()::text AS database,
       pg_catalog.pg_encoding_to_char(d.encoding)::text AS encoding,
       d.datcollate::text AS lc_collate, d.datctype::text AS lc_ctype,
       {provider} AS locale_provider,
       pg_catalog.has_database_privilege(d.oid, 'CREATE') AS can_create,
       {ssl}
FROM pg_catalog.pg_database d
WHERE d.datname = pg_catalog.current_database()
