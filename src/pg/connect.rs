//! Opening a session with the settings every pgferry session relies on.
//! (Minimal first cut; see the connections module brief.)

use super::ConnSpec;
use tokio_postgres::Client;

/// Why a connection could not be made. Every variant's message names the
/// server (redacted) and never the password.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("malformed connection string: {0}")]
    Malformed(String),
    #[error("cannot connect to {target}: {detail}")]
    Connect { target: String, detail: String },
}

impl ConnError {
    /// True when the user must fix the connection settings (exit code 2).
    pub fn is_configuration(&self) -> bool {
        true
    }
}

/// Session settings that make text output identical across servers and
/// versions (dates, floats, time zone) and keep every rendered name qualified.
pub const SESSION_SETUP: &str = "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; \
     SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; \
     SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
     SELECT pg_catalog.set_config('search_path', '', false);";

/// Connects, spawns the connection task, and applies [`SESSION_SETUP`].
/// `purpose` becomes `application_name` so DBAs can see what each session does.
pub async fn connect(spec: &ConnSpec, purpose: &str) -> Result<Client, ConnError> {
    let mut config = spec.config.clone();
    config.application_name(format!("pgferry {purpose}"));
    let (client, connection) =
        config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| ConnError::Connect {
                target: spec.redacted().to_string(),
                detail: e.to_string(),
            })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("connection closed: {e}");
        }
    });
    client
        .batch_execute(SESSION_SETUP)
        .await
        .map_err(|e| ConnError::Connect {
            target: spec.redacted().to_string(),
            detail: e.to_string(),
        })?;
    Ok(client)
}
