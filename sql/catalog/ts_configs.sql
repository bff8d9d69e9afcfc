-- Text search configurations in user schemas, not owned by extensions: the
-- parser (quoted, qualified) and the token mappings in pg_dump's order, as
-- (token alias, dictionary) pairs; consecutive rows of one token are one
-- `ADD MAPPING FOR token WITH dict1, dict2`. Dictionaries are regdictionary
-- text (qualified when not visible: sessions run with an empty search_path).
-- $1: text[] of schema names.
SELECT c.oid::int8 AS oid, n.nspname::text AS schema, c.cfgname::text AS name,
       pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(p.prsname) AS parser,
       ARRAY(SELECT (SELECT t.alias FROM pg_catalog.ts_token_type(c.cfgparser) AS t
                     WHERE t.tokid = m.maptokentype)
             FROM pg_catalog.pg_ts_config_map m WHERE m.mapcfg = c.oid
             ORDER BY m.maptokentype, m.mapseqno)::text[] AS tokens,
       ARRAY(SELECT m.mapdict::pg_catalog.regdictionary::text
             FROM pg_catalog.pg_ts_config_map m WHERE m.mapcfg = c.oid
             ORDER BY m.maptokentype, m.mapseqno)::text[] AS dicts,
       pg_catalog.obj_description(c.oid, 'pg_ts_config') AS comment
FROM pg_catalog.pg_ts_config c
JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x
                  WHERE x.classid = 'pg_catalog.pg_ts_config'::regclass AND x.objid = c.oid AND x.deptype = 'e')
ORDER BY n.nspname, c.cfgname
