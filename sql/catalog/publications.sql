-- Publications (structure only: which tables and which changes), with their
-- tables as `schema.table` text, and on 15+ each table's column list and row
-- filter and the schemas published whole (TABLES IN SCHEMA). No parameters.
-- table_oids: the tables' oids, in the order of `tables`.
--
-- Runs as it is on 10 to 18; what later versions added is read so:
-- - pubtruncate (11+), pubviaroot (13+): through to_jsonb(p), false before.
-- - prattrs, prqual of pg_publication_rel (15+): `d NATURAL RIGHT JOIN r`,
--   where d is one row declaring both NULL. On 15+ the natural join is on
--   those two names, and a merged column of a RIGHT JOIN is r's value (the
--   condition, NULL, never drops a row of r); before 15 d and r share no
--   name, the join is a cross join with d's one row, and both are d's NULLs.
-- - pg_publication_namespace (15+): its rows through pg_depend (each depends
--   on its publication and its schema), none where to_regclass finds no
--   such catalog.
SELECT p.oid::int8 AS oid, p.pubname::text AS name, p.puballtables AS all_tables,
       p.pubinsert AS ins, p.pubupdate AS upd, p.pubdelete AS del,
       COALESCE((pg_catalog.to_jsonb(p)->>'pubtruncate')::bool, false) AS trunc,
       COALESCE((pg_catalog.to_jsonb(p)->>'pubviaroot')::bool, false) AS via_root,
       ARRAY(SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
                    || CASE WHEN prattrs IS NULL THEN '' ELSE ' (' || (SELECT
                         pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
                         FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.prrelid
                         AND a.attnum = ANY (prattrs::pg_catalog.int2[])) || ')' END
                    || CASE WHEN prqual IS NULL THEN '' ELSE ' WHERE (' ||
                         pg_catalog.pg_get_expr(prqual, r.prrelid) || ')' END
             FROM (SELECT NULL::pg_catalog.int2vector AS prattrs,
                          NULL::pg_catalog.pg_node_tree AS prqual) d
             NATURAL RIGHT JOIN pg_catalog.pg_publication_rel r
             JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.prpubid = p.oid ORDER BY n.nspname, c.relname) AS tables,
       ARRAY(SELECT c.oid::int8 FROM pg_catalog.pg_publication_rel r
             JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.prpubid = p.oid ORDER BY n.nspname, c.relname) AS table_oids,
       ARRAY(SELECT pg_catalog.quote_ident(n.nspname)
             FROM pg_catalog.pg_depend dp
             JOIN pg_catalog.pg_depend dn ON dn.classid = dp.classid AND dn.objid = dp.objid
                  AND dn.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
             JOIN pg_catalog.pg_namespace n ON n.oid = dn.refobjid
             WHERE dp.classid = pg_catalog.to_regclass('pg_catalog.pg_publication_namespace')
               AND dp.refclassid = 'pg_catalog.pg_publication'::pg_catalog.regclass
               AND dp.refobjid = p.oid
             ORDER BY 1) AS schemas,
       pg_catalog.obj_description(p.oid, 'pg_publication') AS comment
FROM pg_catalog.pg_publication p
ORDER BY p.pubname
