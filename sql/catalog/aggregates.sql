-- Aggregates (pg_aggregate joined to pg_proc) in user schemas, not owned by
-- extensions. There is no pg_get_aggregatedef(): the renderer builds CREATE
-- AGGREGATE like pg_dump's dumpAgg. Support functions are regproc text (just the
-- name, qualified when not visible: sessions run with an empty search_path),
-- types are format_type() renderings, absent functions are NULL.
-- $1: text[] of schema names.
-- aggfinalmodify/aggmfinalmodify exist on 11+ ('0', meaning "the default", on
-- 10), read through to_jsonb() so that one file runs on every version
-- (sql/README.md). Every pg_aggregate row is an aggregate: no filter on the
-- kind, which on to_jsonb(p) would serialise every row of pg_proc (17 ms).
SELECT p.oid::int8 AS oid, n.nspname::text AS schema, p.proname::text AS name,
       pg_catalog.pg_get_function_arguments(p.oid) AS args,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
       p.pronargs::int4 AS nargs,
       a.aggkind::text AS aggkind,
       a.aggtransfn::regproc::text AS sfunc,
       pg_catalog.format_type(a.aggtranstype, NULL) AS stype,
       a.aggtransspace::int4 AS sspace,
       a.agginitval AS initcond,
       NULLIF(a.aggfinalfn, 0)::regproc::text AS finalfunc,
       a.aggfinalextra AS finalextra,
       COALESCE(pg_catalog.to_jsonb(a)->>'aggfinalmodify', '0') AS finalmodify,
       NULLIF(a.aggcombinefn, 0)::regproc::text AS combinefunc,
       NULLIF(a.aggserialfn, 0)::regproc::text AS serialfunc,
       NULLIF(a.aggdeserialfn, 0)::regproc::text AS deserialfunc,
       NULLIF(a.aggmtransfn, 0)::regproc::text AS msfunc,
       NULLIF(a.aggminvtransfn, 0)::regproc::text AS minvfunc,
       CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS mstype,
       a.aggmtransspace::int4 AS msspace,
       a.aggminitval AS minitcond,
       NULLIF(a.aggmfinalfn, 0)::regproc::text AS mfinalfunc,
       a.aggmfinalextra AS mfinalextra,
       COALESCE(pg_catalog.to_jsonb(a)->>'aggmfinalmodify', '0') AS mfinalmodify,
       (SELECT 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || o.oprname || ')'
        FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
        WHERE o.oid = a.aggsortop) AS sortop,
       p.proparallel::text AS parallel,
       pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
FROM pg_catalog.pg_aggregate a
JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, p.oid
