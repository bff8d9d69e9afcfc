//! Extensions, enum/composite/range/base types, domains and collations. (Being built.)

use tokio_postgres::Client;

/// Extensions, enum/composite/range/base types, domains and collations of the source.
#[derive(Debug, Clone, Default)]
pub struct Types {}

/// Reads them from the schemas named in `schemas`.
pub async fn read(
    _client: &Client,
    _version_num: i32,
    _schemas: &[String],
) -> anyhow::Result<Types> {
    Ok(Types::default())
}
