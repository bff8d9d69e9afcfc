-- Who we are and what the database is, for the report and the encoding check.
-- The locale provider is datlocprovider on 15+ (libc before), read through
-- to_jsonb(d) so that one file runs on every version (sql/README.md).
SELECT pg_catalog.current_setting('server_version') AS version,
       pg_catalog.current_setting('server_version_num')::int4 AS version_num,
       current_user::text AS login,
       COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), false) AS superuser,
       pg_catalog.current_database()::text AS database,
       pg_catalog.pg_encoding_to_char(d.encoding)::text AS encoding,
       d.datcollate::text AS lc_collate, d.datctype::text AS lc_ctype,
       CASE pg_catalog.to_jsonb(d)->>'datlocprovider' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END AS locale_provider,
       pg_catalog.has_database_privilege(d.oid, 'CREATE') AS can_create,
       COALESCE(s.ssl, false) AS ssl, s.version::text AS ssl_version, s.cipher::text AS ssl_cipher
FROM pg_catalog.pg_database d
LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid = pg_catalog.pg_backend_pid()
WHERE d.datname = pg_catalog.current_database()
