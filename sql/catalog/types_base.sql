-- Base types created with CREATE TYPE name (INPUT = ..., OUTPUT = ...) outside
-- any extension, with every property CREATE TYPE sets (as pg_dump's
-- dumpBaseType reads them). Those whose I/O functions are all LANGUAGE
-- internal (code in every server binary) are recreated on the target, which
-- needs a superuser there as on the source; those with a C function cannot be
-- (their library is on the source host) and are reported as skipped, with
-- everything that uses them. Shell types (not yet defined) and the array types
-- PostgreSQL makes for each type are left out.
-- Functions are regprocedure-free regproc text (qualified when not visible:
-- sessions run with an empty search_path), NULL when absent.
-- $1: text[] of schema names.
-- typsubscript exists on 14+ (0 before): read through to_jsonb(t), see sql/README.md.
SELECT t.oid::int8 AS oid, n.nspname::text AS schema, t.typname::text AS name,
       t.typinput::regproc::text AS input, t.typoutput::regproc::text AS output,
       NULLIF(t.typreceive, 0)::regproc::text AS receive,
       NULLIF(t.typsend, 0)::regproc::text AS send,
       NULLIF(t.typmodin, 0)::regproc::text AS typmod_in,
       NULLIF(t.typmodout, 0)::regproc::text AS typmod_out,
       NULLIF(t.typanalyze, 0)::regproc::text AS analyze,
       NULLIF((COALESCE((pg_catalog.to_jsonb(t)->>'typsubscript')::pg_catalog.regproc::pg_catalog.oid, 0::pg_catalog.oid)), 0)::regproc::text AS subscript,
       t.typlen::int4 AS length, t.typbyval AS byval, t.typalign::text AS align,
       t.typstorage::text AS storage, t.typcategory::text AS category,
       t.typispreferred AS preferred, t.typdefault AS default_value,
       CASE WHEN t.typelem <> 0 THEN pg_catalog.format_type(t.typelem, NULL) END AS element,
       t.typdelim::text AS delimiter, t.typcollation <> 0 AS collatable,
       ARRAY(SELECT f.oid::int8 FROM pg_catalog.pg_proc f
             WHERE f.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend, t.typmodin,
                             t.typmodout, t.typanalyze, (COALESCE((pg_catalog.to_jsonb(t)->>'typsubscript')::pg_catalog.regproc::pg_catalog.oid, 0::pg_catalog.oid)))) AS io_oids,
       EXISTS (SELECT 1 FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_language l ON l.oid = f.prolang
               WHERE f.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend, t.typmodin,
                               t.typmodout, t.typanalyze, (COALESCE((pg_catalog.to_jsonb(t)->>'typsubscript')::pg_catalog.regproc::pg_catalog.oid, 0::pg_catalog.oid)))
                 AND l.lanname <> 'internal') AS c_io,
       pg_catalog.obj_description(t.oid, 'pg_type') AS comment
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'b' AND t.typisdefined AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
