-- Range types. The operator class is given only when it is not the subtype's
-- default, the collation only when it differs from the subtype's; canonical
-- and subtype_diff as regproc text (qualified unless in pg_catalog, since the
-- session's search_path is empty). canonical_in_extension: a canonical
-- function must be written in C over a shell type, so a range that has one
-- can be created only by the extension that owns it.
-- The multirange's schema and name on 14+ (NULLs before): rngmultitypid is
-- read through to_jsonb(r) so that one file runs on every version.
-- $1: text[] of schema names.
SELECT t.oid::int8 AS oid, n.nspname::text AS schema, t.typname::text AS name,
       pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
       CASE WHEN NOT opc.opcdefault
            THEN pg_catalog.quote_ident(on_.nspname) || '.' || pg_catalog.quote_ident(opc.opcname) END AS opclass,
       CASE WHEN r.rngcollation <> st.typcollation AND r.rngcollation <> 0
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END AS collation,
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
       mn.nspname::text AS multirange_schema,
       mt.typname::text AS multirange_name,
       pg_catalog.obj_description(t.oid, 'pg_type') AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace on_ ON on_.oid = opc.opcnamespace
LEFT JOIN pg_catalog.pg_collation co ON co.oid = r.rngcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_type mt ON mt.oid = (pg_catalog.to_jsonb(r)->>'rngmultitypid')::oid
LEFT JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace
WHERE t.typtype = 'r' AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
