-- Objects of kinds pgferry does not migrate, named one per row (kind, name), so
-- that precheck can list them instead of leaving them behind silently: default
-- privileges (replayed only with --keep-owners). Relations in other tablespaces
-- are the tablespace rule's (src/precheck/tablespaces.rs).
SELECT 'default privileges' AS kind, pg_catalog.pg_get_userbyid(d.defaclrole)
       || COALESCE(' in schema ' || pg_catalog.quote_ident(n.nspname), '') AS name
FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
ORDER BY 1, 2
