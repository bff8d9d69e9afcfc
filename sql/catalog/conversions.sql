-- Encoding conversions in user schemas, not owned by extensions. Their
-- function is regproc text (usually a built-in one of pg_catalog).
-- $1: text[] of schema names.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.conname::text AS name,
       pg_catalog.pg_encoding_to_char(c.conforencoding)::text AS from_encoding,
       pg_catalog.pg_encoding_to_char(c.contoencoding)::text AS to_encoding,
       c.conproc::regproc::text AS function, c.condefault AS is_default,
       pg_catalog.obj_description(c.oid, 'pg_conversion') AS comment
FROM pg_catalog.pg_conversion c
JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_conversion'::regclass AND d.objid = c.oid
                    AND d.deptype = 'e')
ORDER BY n.nspname, c.conname
