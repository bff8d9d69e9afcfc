//! Connection strings (URI and key=value), the libpq environment and `.pgpass`.
//! (Minimal first cut; see the connections module brief.)

use super::ConnError;

/// A parsed, validated connection target. Holds the password, but never shows it:
/// `Display`/`Debug` print the redacted form.
#[derive(Clone)]
pub struct ConnSpec {
    pub(crate) config: tokio_postgres::Config,
    redacted: String,
}

impl ConnSpec {
    /// Parses a libpq connection string (URI or key=value).
    pub fn parse(s: &str) -> Result<Self, ConnError> {
        let config: tokio_postgres::Config = s
            .parse()
            .map_err(|e| ConnError::Malformed(format!("{e}")))?;
        Ok(ConnSpec {
            config,
            redacted: s.to_string(),
        })
    }

    /// The connection string with any password replaced by `****`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Database name (after defaults).
    pub fn dbname(&self) -> String {
        self.config.get_dbname().unwrap_or("postgres").to_string()
    }
}

impl std::fmt::Debug for ConnSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}
impl std::fmt::Display for ConnSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}
