-- Security labels (SECURITY LABEL FOR provider ON kind object IS 'label') of
-- the objects in the given schemas (tables, views, materialized views,
-- sequences, foreign tables and their columns, functions, procedures,
-- aggregates, types, domains, the schemas themselves), of event triggers
-- and publications, of roles (pg_shseclabel: carried only for the roles
-- --create-roles creates) and of large objects (reported as not carried).
-- The plan keeps the labels of the objects it creates (src/ddl/seclabels.rs).
-- Databases, tablespaces, languages and subscriptions are not migrated, and
-- neither are their labels (pg_dump leaves those of the first two to pg_dumpall).
-- $1: text[] of schema names.
-- oid: the object the plan ties the label's statement to: the relation of a
--   column label, the pg_class entry of a composite type, else the object.
-- kind: pg_seclabels.objtype (table, column, function, domain...), the
--   keyword SECURITY LABEL takes, in lower case.
-- identity: the object as SECURITY LABEL names it, quoted (pg_identify_object:
--   schema.table.column, schema.f(argument types)...).
-- column_name: the column of a column label, raw.
SELECT CASE WHEN l.classoid = 'pg_catalog.pg_type'::regclass AND t.typrelid <> 0
            THEN t.typrelid ELSE l.objoid END::int8 AS oid,
       l.objtype::text AS kind,
       i.identity AS identity,
       a.attname::text AS column_name,
       l.provider::text AS provider,
       l.label::text AS label
FROM pg_catalog.pg_seclabels l
CROSS JOIN LATERAL pg_catalog.pg_identify_object(l.classoid, l.objoid, l.objsubid) i
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = l.objnamespace
LEFT JOIN pg_catalog.pg_type t
       ON l.classoid = 'pg_catalog.pg_type'::regclass AND t.oid = l.objoid
LEFT JOIN pg_catalog.pg_attribute a
       ON l.classoid = 'pg_catalog.pg_class'::regclass AND l.objsubid <> 0
      AND a.attrelid = l.objoid AND a.attnum = l.objsubid
WHERE (n.nspname = ANY($1)
       AND l.objtype IN ('table', 'view', 'materialized view', 'sequence', 'foreign table',
                         'column', 'aggregate', 'function', 'procedure', 'type', 'domain',
                         'schema'))
   OR l.objtype IN ('event trigger', 'publication', 'role', 'large object')
ORDER BY 2, 3, 5
