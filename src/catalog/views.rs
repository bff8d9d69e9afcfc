//! Views, materialized views, rules, triggers and row-level security policies. (Being built.)

use tokio_postgres::Client;

/// Views, materialized views, rules, triggers and row-level security policies of the source.
#[derive(Debug, Clone, Default)]
pub struct Views {}

/// Reads them from the schemas named in `schemas`.
pub async fn read(
    _client: &Client,
    _version_num: i32,
    _schemas: &[String],
) -> anyhow::Result<Views> {
    Ok(Views::default())
}
