//! Opening a session, and turning connection failures into errors that say
//! what is wrong and what to do, without ever showing the password.

use super::spec::SslMode;
use super::tls::{self, Verification};
use super::ConnSpec;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Socket};

/// Which end of a job a connection belongs to. Every connection message
/// starts with it, so a user with two servers knows which one to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    Source,
    Target,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            End::Source => "source",
            End::Target => "target",
        })
    }
}

/// `"source: "`, `"target: "`, or nothing when the end is unknown (a
/// connection string parsed outside a job).
fn at(end: &Option<End>) -> String {
    end.map(|e| format!("{e}: ")).unwrap_or_default()
}

/// Why a connection could not be made. Every message is one line, starts
/// with the end (`source:` or `target:`) when known, names the target in its
/// redacted form, and never contains the password.
/// All variants but `Other` are configuration problems (exit code 2 when they
/// happen as a command starts, see [`AtStart`]).
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The connection string itself is wrong (syntax, keyword, value).
    #[error("{}malformed connection string: {detail}", at(.end))]
    Malformed { end: Option<End>, detail: String },
    /// Nothing answered: refused, unknown host, or timed out.
    #[error("{}cannot reach {target}: {detail}; is the server running on {host} and accepting connections?", at(.end))]
    Unreachable {
        end: Option<End>,
        target: String,
        host: String,
        detail: String,
    },
    /// Something answered, but not the PostgreSQL protocol (it closed at
    /// once, or spoke HTTP, SSH...): a wrong port or host.
    #[error("{}the server at {host} did not answer as PostgreSQL ({detail}); check the host and port of {target}", at(.end))]
    NotPostgres {
        end: Option<End>,
        target: String,
        host: String,
        detail: String,
    },
    /// The server rejected the credentials (SQLSTATE 28P01 / 28000).
    #[error("{}cannot log in to {target}: {detail}; check the user name and password (connection string, PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf", at(.end))]
    Auth {
        end: Option<End>,
        target: String,
        user: String,
        detail: String,
    },
    /// SQLSTATE 3D000.
    #[error("{}database \"{dbname}\" does not exist on {target}; check the database name or create it first", at(.end))]
    NoDatabase {
        end: Option<End>,
        target: String,
        dbname: String,
    },
    /// TLS could not be set up or the certificate was rejected.
    #[error("{}TLS problem with {target}: {detail}", at(.end))]
    Tls {
        end: Option<End>,
        target: String,
        detail: String,
    },
    /// Anything else (the server is up but refused for another reason).
    /// `code` is the server's SQLSTATE when it sent one (57P03 "the
    /// database system is starting up", 53300 "too many clients"...).
    #[error("{}cannot connect to {target}: {detail}", at(.end))]
    Other {
        end: Option<End>,
        target: String,
        detail: String,
        code: Option<SqlState>,
    },
}

impl ConnError {
    /// True when the user must fix the connection settings (exit code 2).
    pub fn is_configuration(&self) -> bool {
        !matches!(self, ConnError::Other { .. })
    }

    /// True when trying again later may succeed: nothing answered (a server
    /// restarting or failing over refuses connections for a while), the
    /// server sent a transient SQLSTATE, or the connection broke during
    /// start-up without one. Bad credentials, a missing database, TLS and
    /// connection-string problems are never transient.
    pub fn is_transient(&self) -> bool {
        match self {
            ConnError::Unreachable { .. } => true,
            ConnError::Other { code: Some(c), .. } => super::transient::transient_code(c),
            ConnError::Other { code: None, .. } => true,
            _ => false,
        }
    }
    /// A malformed connection string (end unknown until the caller says).
    pub fn malformed(detail: impl Into<String>) -> ConnError {
        ConnError::Malformed {
            end: None,
            detail: detail.into(),
        }
    }

    /// Which end the failed connection belongs to, when known.
    pub fn end(&self) -> Option<End> {
        match self {
            ConnError::Malformed { end, .. }
            | ConnError::Unreachable { end, .. }
            | ConnError::NotPostgres { end, .. }
            | ConnError::Auth { end, .. }
            | ConnError::NoDatabase { end, .. }
            | ConnError::Tls { end, .. }
            | ConnError::Other { end, .. } => *end,
        }
    }

    /// The same error, said of `end`.
    pub fn at(mut self, which: End) -> ConnError {
        match &mut self {
            ConnError::Malformed { end, .. }
            | ConnError::Unreachable { end, .. }
            | ConnError::NotPostgres { end, .. }
            | ConnError::Auth { end, .. }
            | ConnError::NoDatabase { end, .. }
            | ConnError::Tls { end, .. }
            | ConnError::Other { end, .. } => *end = Some(which),
        }
        self
    }
}

/// A connection that failed as a command started, before any work: what the
/// user gave (address, credentials, database, TLS settings) is wrong, so it is
/// a configuration error (exit 2) when [`ConnError::is_configuration`]. The
/// same failure later in a run (a server gone, a password changed) is a failed
/// run that can be resumed (exit 3): it is a bare [`ConnError`] there.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct AtStart(pub ConnError);

/// [`connect`] for the first sessions of a command (see [`AtStart`]). Here a
/// peer that breaks the start-up off (closes, resets, or sends what is no
/// protocol message) is not a server in trouble but not PostgreSQL at all:
/// [`ConnError::NotPostgres`]. Later in a run the same failure stays
/// [`ConnError::Other`], which is retried (a server restarting can do that).
pub async fn connect_at_start(spec: &ConnSpec, purpose: &str) -> Result<Client, AtStart> {
    connect(spec, purpose).await.map_err(|e| {
        AtStart(match e {
            ConnError::Other {
                end,
                target,
                detail,
                ..
            } if not_postgres(&detail) => ConnError::NotPostgres {
                end,
                target,
                host: scrub(&spec.host_description(), spec.password()),
                detail,
            },
            e => e,
        })
    })
}

/// Session settings that make text output identical across servers and
/// versions (dates, floats, time zone) and keep every rendered name qualified.
pub const SESSION_SETUP: &str = "SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; \
     SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; \
     SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
     SELECT pg_catalog.set_config('search_path', '', false);";

/// Connects, spawns the connection task, and applies [`SESSION_SETUP`].
/// `purpose` goes into `application_name` so DBAs can see what each session
/// does (after the user's own `application_name`, when given).
pub async fn connect(spec: &ConnSpec, purpose: &str) -> Result<Client, ConnError> {
    let mut config = spec.config.clone();
    config.application_name(match spec.application_name() {
        Some(app) => format!("{app} (pgferry {purpose})"),
        None => format!("pgferry {purpose}"),
    });
    let plain = spec.all_unix_sockets() || spec.ssl_mode() == SslMode::Disable;
    let attempt = async {
        if plain {
            open(spec, &config, tokio_postgres::NoTls).await
        } else {
            open(spec, &config, tls::connector(spec)?).await
        }
    };
    // tokio-postgres bounds only the TCP connect; libpq's connect_timeout
    // covers the whole start-up (TLS, authentication) per host, so a server
    // that accepts and then stalls does not hang us forever.
    let client = match spec.connect_timeout() {
        None => attempt.await?,
        Some(t) => {
            let hosts = u32::try_from(spec.host_count()).unwrap_or(u32::MAX);
            let limit = t.saturating_mul(hosts) + Duration::from_secs(1);
            tokio::time::timeout(limit, attempt)
                .await
                .map_err(|_| ConnError::Unreachable {
                    end: spec.end(),
                    target: spec.redacted().to_string(),
                    host: spec.host_description(),
                    detail: format!("no answer within {}s", limit.as_secs()),
                })??
        }
    };
    client
        .batch_execute(SESSION_SETUP)
        .await
        .map_err(|e| classify(spec, &e))?;
    Ok(client)
}

async fn open<T>(
    spec: &ConnSpec,
    config: &tokio_postgres::Config,
    tls: T,
) -> Result<Client, ConnError>
where
    T: MakeTlsConnect<Socket> + 'static,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await.map_err(|e| classify(spec, &e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("connection closed: {e}");
        }
    });
    Ok(client)
}

/// Maps a tokio-postgres error to a [`ConnError`].
///
/// tokio-postgres does not expose its error kinds, only their `Display`
/// text, so non-server errors are told apart by that text (stable across
/// 0.7 releases) and by the types in the source chain.
pub(crate) fn classify(spec: &ConnSpec, e: &tokio_postgres::Error) -> ConnError {
    let target = spec.redacted().to_string();
    let end = spec.end();
    let clean = |s: &str| scrub(s, spec.password());
    if let Some(db) = e.as_db_error() {
        let msg = clean(db.message());
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            ConnError::Auth {
                end,
                target,
                user: spec.user().to_string(),
                detail: msg,
            }
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            ConnError::NoDatabase {
                end,
                target,
                dbname: spec.dbname(),
            }
        } else {
            ConnError::Other {
                end,
                target,
                detail: format!("{} (SQLSTATE {})", msg, code.code()),
                code: Some(code.clone()),
            }
        };
    }
    let kind = e.to_string();
    let detail = clean(&chain_text(e));
    match kind.as_str() {
        "error performing TLS handshake" => ConnError::Tls {
            end,
            detail: clean(&tls_detail(spec, e, &detail)),
            target,
        },
        "error connecting to server" | "timeout waiting for server" => ConnError::Unreachable {
            end,
            target,
            host: clean(&spec.host_description()),
            detail,
        },
        // "password missing" comes as a configuration error from
        // tokio-postgres, but for the user it is a credentials problem.
        _ if detail.contains("password missing") => ConnError::Auth {
            end,
            target,
            user: spec.user().to_string(),
            detail: format!(
                "the server asks for a password for user \"{}\" and none was given",
                spec.user()
            ),
        },
        "authentication error" => ConnError::Auth {
            end,
            target,
            user: spec.user().to_string(),
            detail,
        },
        "invalid configuration" | "invalid connection string" => ConnError::malformed(detail),
        _ => ConnError::Other {
            end,
            target,
            detail,
            code: None,
        },
    }
}

/// The texts tokio-postgres gives when the peer does not speak the
/// PostgreSQL protocol during start-up: it closed or reset before any message
/// ("early eof", "connection closed", "reset by peer"), or sent something
/// that does not parse ("bytes remaining on stream", "unexpected message").
fn not_postgres(detail: &str) -> bool {
    [
        "early eof",
        "connection closed",
        "Connection reset by peer",
        "bytes remaining on stream",
        "unexpected message",
        "invalid message length",
        "error parsing",
    ]
    .iter()
    .any(|s| detail.contains(s))
}

/// The messages of the error's causes (tokio-postgres' own `Display` shows
/// only the kind).
fn chain_text(e: &tokio_postgres::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = c.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// Finds a rustls error in the chain; tokio-rustls wraps it in an
/// `io::Error`, whose `source()` skips it, hence `get_ref`.
fn find_rustls(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(r);
            }
        }
        cur = c.source();
    }
    None
}

/// Says which TLS check failed and what to change.
fn tls_detail(spec: &ConnSpec, e: &tokio_postgres::Error, fallback: &str) -> String {
    use rustls::CertificateError as C;
    if fallback.contains("server does not support TLS") {
        return "the server does not support SSL, but the sslmode requires it; enable ssl on the server, or use sslmode=prefer (unencrypted if the server has no SSL)".to_string();
    }
    let roots = match spec.root_cert() {
        Some(super::RootCert::File(p)) => format!("the CA certificates in {}", p.display()),
        _ => "the built-in Mozilla CA list (no sslrootcert given)".to_string(),
    };
    match find_rustls(e) {
        Some(rustls::Error::InvalidCertificate(C::UnknownIssuer)) => format!(
            "the server certificate is not trusted: it is not signed by {roots}; set sslrootcert to the CA certificate or bundle of the server (for example the AWS RDS global-bundle.pem)"
        ),
        Some(rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. })) => {
            let level = if tls::verification(spec) == Verification::ChainAndName { "sslmode=verify-full" } else { "the sslmode" };
            format!(
                "the server certificate does not match the host name {} ({level} checks it); connect using a name listed in the certificate, or use sslmode=verify-ca to check only the CA",
                spec.hosts().join(", ")
            )
        }
        Some(rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. })) => {
            "the server certificate has expired".to_string()
        }
        Some(r) => format!("TLS handshake failed: {r}"),
        None => format!("TLS handshake failed: {fallback}"),
    }
}

/// Replaces the password in a message by `****`: defence in depth for
/// messages we pass through (server texts, host names the user typed).
/// Very short passwords are left alone because masking every "ab" in a
/// message would garble it while hiding nothing.
pub(crate) fn scrub(msg: &str, password: Option<&str>) -> String {
    match password {
        Some(pw) if pw.len() >= 4 => msg.replace(pw, "****"),
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors() {
        let t = || "x".to_string();
        assert!(ConnError::malformed(t()).is_configuration());
        assert!(ConnError::Tls {
            end: None,
            target: t(),
            detail: t()
        }
        .is_configuration());
        assert!(!ConnError::Other {
            end: None,
            target: t(),
            detail: t(),
            code: None,
        }
        .is_configuration());
    }

    #[test]
    fn scrub_masks_password() {
        assert_eq!(
            scrub("host s3cret! down", Some("s3cret!")),
            "host **** down"
        );
        assert_eq!(scrub("abc", Some("ab")), "abc");
        assert_eq!(scrub("abc", None), "abc");
    }
}
