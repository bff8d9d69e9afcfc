-- Objects with an internal dependency (deptype 'i': a range type's constructor
-- functions, a multirange's casts) are made by their owner's CREATE and left out.
-- Functions, procedures and window functions (pg_proc, not aggregates) in user
-- schemas, not owned by extensions. pg_get_functiondef() gives the complete
-- CREATE OR REPLACE statement (SET clauses, SECURITY DEFINER, volatility,
-- COST/ROWS, LEAKPROOF, PARALLEL, STRICT, defaults, parameter modes, bodies).
-- $1: text[] of schema names.
-- The kind is p.prokind on 11+, derived from proisagg/proiswindow on 10: read
-- through to_jsonb(p) so that one file runs on every version (sql/README.md).
-- Aggregates are told apart by pg_aggregate, not by that kind: a filter on
-- to_jsonb(p) is pushed down to every row of pg_proc (3,000 serialised rows,
-- 18 ms of the catalog read), where the select list only sees the rows kept.
SELECT p.oid::int8 AS oid, n.nspname::text AS schema, p.proname::text AS name,
       k.prokind::text AS kind,
       l.lanname::text AS language,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
       p.prosrc AS source, p.probin AS library,
       pg_catalog.pg_get_functiondef(p.oid) AS definition,
       pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
CROSS JOIN LATERAL (SELECT COALESCE(j->>'prokind',
                             CASE WHEN (j->>'proisagg')::bool THEN 'a'
                                  WHEN (j->>'proiswindow')::bool THEN 'w' ELSE 'f' END) AS prokind
                    FROM (SELECT pg_catalog.to_jsonb(p) AS j) x) k
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, p.oid
