-- Default privileges (ALTER DEFAULT PRIVILEGES), replayed with --keep-owners.
-- objtype: r tables, S sequences, f functions, T types, n schemas.
-- schema NULL: the role's global defaults (they replace the built-in ones);
-- otherwise grants added in that schema.
-- acl_json: aclexplode() of defaclacl in array order (NULL when empty).
SELECT d.oid::int8 AS oid, pg_catalog.pg_get_userbyid(d.defaclrole)::text AS role,
       n.nspname::text AS schema, d.defaclobjtype::text AS objtype,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'grantor', pg_catalog.pg_get_userbyid(x.grantor)::text,
                 'grantee', CASE WHEN x.grantee = 0 THEN NULL ELSE pg_catalog.pg_get_userbyid(x.grantee)::text END,
                 'privilege', x.privilege_type, 'grantable', x.is_grantable) ORDER BY x.i)
        FROM pg_catalog.aclexplode(d.defaclacl) WITH ORDINALITY x(grantor, grantee, privilege_type, is_grantable, i))
         AS acl_json
FROM pg_catalog.pg_default_acl d
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
ORDER BY 2, 3 NULLS FIRST, 4
