-- The branch of target_conflicts.sql for extended statistics objects (10+ targets).
    UNION ALL
    SELECT 'statistics' FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
    WHERE x.kind = 'statistics' AND n.nspname = x.schema AND s.stxname = x.name
