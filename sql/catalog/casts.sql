-- Objects with an internal dependency (deptype 'i': a range type's constructor
-- functions, a multirange's casts) are made by their owner's CREATE and left out.
-- User-created casts (pg_cast rows past the bootstrap oids, as pg_dump selects
-- them), not owned by extensions. Casts live in no schema: a cast is read when
-- its source type, target type or function is in one of the schemas read, or
-- when all of them are built-in (a cast between built-in types made by hand).
-- Types are format_type() renderings; the function is rendered as
-- schema.name(identity arguments), ready for WITH FUNCTION.
-- $1: text[] of schema names.
SELECT c.oid::int8 AS oid,
       pg_catalog.format_type(c.castsource, NULL) AS source,
       pg_catalog.format_type(c.casttarget, NULL) AS target,
       CASE WHEN c.castfunc <> 0 THEN
           pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(f.proname)
           || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')' END AS function,
       c.castmethod::text AS method,
       c.castcontext::text AS context,
       pg_catalog.obj_description(c.oid, 'pg_cast') AS comment
FROM pg_catalog.pg_cast c
JOIN pg_catalog.pg_type st ON st.oid = c.castsource
JOIN pg_catalog.pg_namespace sn ON sn.oid = st.typnamespace
JOIN pg_catalog.pg_type tt ON tt.oid = c.casttarget
JOIN pg_catalog.pg_namespace tn ON tn.oid = tt.typnamespace
LEFT JOIN pg_catalog.pg_proc f ON f.oid = c.castfunc
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
WHERE c.oid >= 16384
  AND (sn.nspname = ANY($1) OR tn.nspname = ANY($1) OR fn.nspname = ANY($1)
       OR (sn.nspname = 'pg_catalog' AND tn.nspname = 'pg_catalog'
           AND COALESCE(fn.nspname, 'pg_catalog') = 'pg_catalog'))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_cast'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
ORDER BY 2, 3
