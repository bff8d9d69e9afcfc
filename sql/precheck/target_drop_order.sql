-- The order in which the conflicting target objects can be dropped, from pg_depend.
-- $1 catalog oids, $2 object oids: the objects, numbered from 1 in the given order.
--
-- An object's parts go with it when it is dropped: everything with an internal,
-- automatic or partition dependency on it, transitively (a table's row type, columns'
-- defaults, constraints, indexes, triggers, rules, policies, owned sequences, partitions;
-- a view's rewrite rule). Rows:
--   ('with', a, b, NULL)    object a is one of b's parts: dropping b drops a
--   ('before', a, b, NULL)  a part of a depends on a part of b: drop a first
--   ('blocked', b, NULL, d) target object d (not among them) depends on a part of b:
--                            DROP of b fails until d is dropped or changed
WITH RECURSIVE obj AS (
    SELECT o.n::int AS n, o.classid::oid AS classid, o.objid::oid AS objid
    FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS o(classid, objid, n)
), part(n, classid, objid, depth) AS (
    SELECT n, classid, objid, 0 FROM obj
    UNION
    SELECT p.n, d.classid, d.objid, p.depth + 1
    FROM part p
    JOIN pg_catalog.pg_depend d ON d.refclassid = p.classid AND d.refobjid = p.objid
    WHERE d.deptype IN ('a', 'i', 'P', 'S') AND p.depth < 8
)
SELECT 'with'::text AS rel, o.n AS a, p.n AS b, NULL::text AS what
FROM obj o
JOIN part p ON p.classid = o.classid AND p.objid = o.objid AND p.n <> o.n
UNION
SELECT 'before', pa.n, pb.n, NULL
FROM pg_catalog.pg_depend d
JOIN part pa ON pa.classid = d.classid AND pa.objid = d.objid
JOIN part pb ON pb.classid = d.refclassid AND pb.objid = d.refobjid
WHERE d.deptype = 'n' AND pa.n <> pb.n
UNION
SELECT 'blocked', pb.n, NULL, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_catalog.pg_depend d
JOIN part pb ON pb.classid = d.refclassid AND pb.objid = d.refobjid
WHERE d.deptype = 'n'
  AND NOT EXISTS (SELECT 1 FROM part pa WHERE pa.classid = d.classid AND pa.objid = d.objid)
ORDER BY 1, 2, 3, 4
