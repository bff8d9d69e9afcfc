-- What the target offers for each extension the source uses.
-- $1: text[] of extension names. v.trusted exists on 13+ (false before): read through
-- to_jsonb(v) so that one file runs on every version (sql/README.md).
SELECT a.name::text AS name, a.default_version::text AS default_version,
       a.installed_version::text AS installed_version,
       COALESCE((SELECT array_agg(v.version::text ORDER BY v.version)
                 FROM pg_catalog.pg_available_extension_versions v WHERE v.name = a.name), '{}') AS versions,
       COALESCE((SELECT array_agg(v.version::text ORDER BY v.version)
                 FROM pg_catalog.pg_available_extension_versions v
                 WHERE v.name = a.name AND (NOT v.superuser OR COALESCE((pg_catalog.to_jsonb(v)->>'trusted')::bool, false))), '{}') AS unprivileged_versions
FROM pg_catalog.pg_available_extensions a
WHERE a.name = ANY($1)
