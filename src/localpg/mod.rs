//! Local throwaway PostgreSQL clusters (initdb + pg_ctl), used by `pgferry demo`
//! and by the integration tests. (Being built.)
