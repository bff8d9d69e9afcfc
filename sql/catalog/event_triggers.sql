-- Event triggers not owned by extensions. They are database-wide (no schema).
-- The function is regproc text (qualified when not visible: sessions run with
-- an empty search_path). evtenabled: O on, D disabled, R replica, A always.
SELECT e.oid::int8 AS oid, e.evtname::text AS name, e.evtevent::text AS event,
       COALESCE(e.evttags, '{}')::text[] AS tags,
       e.evtfoid::regproc::text AS function, e.evtenabled::text AS enabled,
       pg_catalog.obj_description(e.oid, 'pg_event_trigger') AS comment
FROM pg_catalog.pg_event_trigger e
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_event_trigger'::regclass AND d.objid = e.oid
                    AND d.deptype = 'e')
ORDER BY e.evtname
