-- Publications (structure only: which tables and which changes), with their
-- tables as `schema.table` text, and on 15+ each table's column list and row
-- filter and the schemas published whole (TABLES IN SCHEMA).
-- {truncate}: p.pubtruncate on 11+, false before. {viaroot}: p.pubviaroot on
-- 13+, false before. {tables}: the per-table rendering, {table_oids} the
-- tables' oids in the same order (see catalog/extra.rs).
-- {schemas}: the schemas published whole on 15+, '{}' before.
SELECT p.oid::int8 AS oid, p.pubname::text AS name, p.puballtables AS all_tables,
       p.pubinsert AS ins, p.pubupdate AS upd, p.pubdelete AS del, ({truncate}) AS trunc,
       ({viaroot}) AS via_root,
       ({tables}) AS tables,
       ({table_oids}) AS table_oids,
       ({schemas}) AS schemas,
       pg_catalog.obj_description(p.oid, 'pg_publication') AS comment
FROM pg_catalog.pg_publication p
ORDER BY p.pubname
