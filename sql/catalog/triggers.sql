-- User triggers on tables and views in user schemas not owned by extensions.
-- Internal triggers (foreign keys, deferrable unique constraints, and on 11-12
-- the clones a partitioned table's trigger makes on its partitions) are
-- excluded. From 13 on, those clones are not internal but have tgparentid: they
-- are read with their parent's enabled state, so that only a differing state is
-- migrated (the clone itself is made by the parent's CREATE TRIGGER).
-- pg_get_triggerdef gives the complete CREATE [CONSTRAINT] TRIGGER statement
-- (EXECUTE PROCEDURE on 10, EXECUTE FUNCTION from 11). tgenabled is O (origin,
-- the default), D (disabled), R (replica) or A (always).
-- $1: text[] of schema names to read.
SELECT t.oid::int8 AS oid, t.tgrelid::int8 AS table_oid,
       n.nspname::text AS schema, c.relname::text AS table_name,
       t.tgname::text AS name,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled,
       (SELECT pt.tgenabled::text FROM pg_catalog.pg_trigger pt
        WHERE pt.oid = (pg_catalog.to_jsonb(t)->>'tgparentid')::oid) AS parent_enabled,
       pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND c.relkind IN ('r', 'p', 'v', 'f')
  AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, t.tgname
