//! Functions, procedures, aggregates, operators and casts. (Being built.)

use tokio_postgres::Client;

/// Functions, procedures, aggregates, operators and casts of the source.
#[derive(Debug, Clone, Default)]
pub struct Routines {}

/// Reads them from the schemas named in `schemas`.
pub async fn read(
    _client: &Client,
    _version_num: i32,
    _schemas: &[String],
) -> anyhow::Result<Routines> {
    Ok(Routines::default())
}
