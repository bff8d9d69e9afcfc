-- For each given type oid: the type it stands for once domains are peeled
-- off (base_oid), and, when that base is an array, its element type (elem_oid,
-- else 0). The element may itself be a domain; the reader asks again for it.
-- $1: int8[] of type oids.
WITH RECURSIVE chain(start_oid, cur_oid, depth) AS (
    SELECT t.oid, t.oid, 0
    FROM pg_catalog.pg_type t
    WHERE t.oid = ANY($1::int8[]::oid[])
  UNION ALL
    SELECT c.start_oid, t.typbasetype, c.depth + 1
    FROM chain c
    JOIN pg_catalog.pg_type t ON t.oid = c.cur_oid
    WHERE t.typtype = 'd' AND c.depth < 32
)
SELECT c.start_oid::int8 AS type_oid, c.cur_oid::int8 AS base_oid,
       CASE WHEN b.typcategory = 'A' THEN b.typelem ELSE 0 END::int8 AS elem_oid
FROM chain c
JOIN pg_catalog.pg_type b ON b.oid = c.cur_oid
WHERE b.typtype <> 'd'
