//! A resolved connection target: the connection string plus the libpq
//! environment, defaults and `.pgpass`, ready to hand to tokio-postgres.
//!
//! Users move databases with the same strings they give psql, so every rule
//! here follows libpq; where we differ (noted on each item) it is because
//! tokio-postgres cannot do what libpq does.

use super::conninfo::{parse_raw, RawConnInfo};
use super::{pgpass, ConnError};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// libpq's `sslmode`. tokio-postgres only knows disable/prefer/require, so
/// the verifying modes connect with TLS required and pgferry checks the
/// certificate itself (see `tls.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    /// Treated as `prefer`: tokio-postgres cannot try plaintext first.
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<Self, ConnError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(ConnError::malformed(format!(
                    "invalid sslmode \"{other}\" (expected disable, allow, prefer, require, verify-ca or verify-full)"
                )))
            }
        })
    }
}

/// Where trusted CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file (one certificate or a bundle, e.g. the AWS RDS global bundle).
    File(PathBuf),
    /// `sslrootcert=system`: the built-in Mozilla roots (webpki-roots).
    System,
}

/// A parsed, resolved connection target. Holds the password, but never
/// shows it: `Display`/`Debug` print [`ConnSpec::redacted`].
#[derive(Clone)]
pub struct ConnSpec {
    raw: RawConnInfo,
    redacted: String,
    pub(crate) config: tokio_postgres::Config,
    hosts: Vec<String>,
    ports: Vec<u16>,
    user: String,
    dbname: String,
    password: Option<String>,
    ssl_mode: SslMode,
    root_cert: Option<RootCert>,
    connect_timeout: Option<Duration>,
    application_name: Option<String>,
    /// Which end of the job this is, for messages (`None` outside a job).
    end: Option<super::End>,
}

/// Reads one environment variable; injected so tests need not touch the
/// process environment. Empty values count as unset, as in libpq.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl ConnSpec {
    /// Parses a libpq connection string (URI or key=value) and resolves it
    /// against the libpq environment, defaults and the password file.
    pub fn parse(s: &str) -> Result<Self, ConnError> {
        Self::resolve(parse_raw(s)?, &process_env)
    }

    #[cfg(test)]
    pub(crate) fn parse_with_env(s: &str, env: Env<'_>) -> Result<Self, ConnError> {
        Self::resolve(parse_raw(s)?, env)
    }

    /// The same target with another database (for example `postgres` to run
    /// `CREATE DATABASE`). Resolved again because `.pgpass` may differ.
    pub fn with_dbname(&self, dbname: &str) -> Result<Self, ConnError> {
        let mut raw = self.raw.clone();
        raw.set("dbname", dbname);
        let end = self.end;
        Self::resolve(raw, &process_env).map(|mut s| {
            s.end = end;
            s
        })
    }

    /// The same target, said to be the source or the target of a job: every
    /// connection error then starts with that word.
    pub fn at_end(mut self, end: super::End) -> Self {
        self.end = Some(end);
        self
    }

    /// Which end of the job this is, when known.
    pub fn end(&self) -> Option<super::End> {
        self.end
    }

    /// The connection string with any password replaced by `****`. Values
    /// taken from the environment or `.pgpass` are not shown at all.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Database name (after environment and defaults).
    pub fn dbname(&self) -> String {
        self.dbname.clone()
    }

    /// User name (after environment and defaults).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Where we connect, for messages: `host:port` (comma-separated when
    /// several hosts), or the socket file for unix sockets.
    pub fn host_description(&self) -> String {
        let port_for = |i: usize| {
            self.ports
                .get(i)
                .or(self.ports.first())
                .copied()
                .unwrap_or(5432)
        };
        self.hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if h.starts_with('/') {
                    format!("{}/.s.PGSQL.{}", h.trim_end_matches('/'), port_for(i))
                } else if h.contains(':') {
                    format!("[{h}]:{}", port_for(i))
                } else {
                    format!("{h}:{}", port_for(i))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether every host is this machine: a socket directory, `localhost`
    /// or a loopback address. A server here shares this machine's CPUs with
    /// pgferry (and with the other end, when it is here too).
    pub fn on_this_host(&self) -> bool {
        self.hosts.iter().all(|h| {
            h.starts_with('/')
                || h.starts_with('@')
                || h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
    }

    /// The host names (or socket directories) in order.
    pub(crate) fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The effective `sslmode`.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The effective `sslrootcert`, if any.
    pub fn root_cert(&self) -> Option<&RootCert> {
        self.root_cert.as_ref()
    }

    /// True when the connection will fail rather than go unencrypted. Unix
    /// sockets never use TLS (as in libpq), so they never require it.
    pub fn requires_tls(&self) -> bool {
        !self.all_unix_sockets()
            && matches!(
                self.ssl_mode,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
            )
    }

    /// The effective connect timeout (`None`: wait forever).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// `application_name` the user asked for, if any.
    pub fn application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    /// Number of hosts to try (the connect deadline scales with it).
    pub(crate) fn host_count(&self) -> usize {
        self.hosts.len().max(1)
    }

    /// The password, only for scrubbing it out of messages.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub(crate) fn all_unix_sockets(&self) -> bool {
        self.hosts.iter().all(|h| h.starts_with('/'))
    }

    fn resolve(raw: RawConnInfo, env: Env<'_>) -> Result<Self, ConnError> {
        let get = |kw: &str, var: Option<&str>| -> Option<String> {
            raw.get(kw)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .or_else(|| var.and_then(env))
        };
        let bad = |m: String| ConnError::malformed(m);

        let hosts: Vec<String> = get("host", Some("PGHOST"))
            .unwrap_or_default()
            .split(',')
            .map(|h| match h.trim() {
                "" => default_host(),
                h => h.to_string(),
            })
            .collect();
        let ports: Vec<u16> = get("port", Some("PGPORT"))
            .unwrap_or_default()
            .split(',')
            .map(|p| match p.trim() {
                "" => Ok(5432),
                p => p
                    .parse::<u16>()
                    .ok()
                    .filter(|n| *n != 0)
                    .ok_or_else(|| bad(format!("invalid port number \"{p}\""))),
            })
            .collect::<Result<_, _>>()?;
        if ports.len() != 1 && ports.len() != hosts.len() {
            return Err(bad(format!(
                "could not match {} port numbers to {} hosts",
                ports.len(),
                hosts.len()
            )));
        }
        let hostaddrs: Vec<IpAddr> = match get("hostaddr", Some("PGHOSTADDR")) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|a| {
                    a.trim()
                        .parse()
                        .map_err(|_| bad(format!("invalid hostaddr \"{}\"", a.trim())))
                })
                .collect::<Result<_, _>>()?,
        };
        if !hostaddrs.is_empty() && hostaddrs.len() != hosts.len() {
            return Err(bad(format!(
                "could not match {} host addresses to {} hosts",
                hostaddrs.len(),
                hosts.len()
            )));
        }
        let user = get("user", Some("PGUSER"))
            .or_else(|| env("USER"))
            .or_else(os_user)
            .ok_or_else(|| bad("no user name given and the OS user is unknown".into()))?;
        let dbname = get("dbname", Some("PGDATABASE")).unwrap_or_else(|| user.clone());

        let root_cert = get("sslrootcert", Some("PGSSLROOTCERT")).map(|p| match p.as_str() {
            "system" => RootCert::System,
            _ => RootCert::File(PathBuf::from(p)),
        });
        let ssl_mode = match get("sslmode", Some("PGSSLMODE")) {
            Some(m) => SslMode::parse(&m)?,
            // libpq 16: sslrootcert=system defaults to full verification.
            None if root_cert == Some(RootCert::System) => SslMode::VerifyFull,
            None => SslMode::Prefer,
        };
        if root_cert == Some(RootCert::System) && ssl_mode != SslMode::VerifyFull {
            return Err(bad(
                "sslrootcert=system requires sslmode=verify-full (as in libpq)".into(),
            ));
        }
        let connect_timeout = match get("connect_timeout", Some("PGCONNECT_TIMEOUT")) {
            None => Some(Duration::from_secs(10)),
            Some(t) => match t.trim().parse::<i64>() {
                // libpq: zero or negative waits forever; 1 second is raised to 2.
                Ok(n) if n <= 0 => None,
                Ok(n) => Some(Duration::from_secs(n.max(2).unsigned_abs())),
                Err(_) => return Err(bad(format!("invalid connect_timeout \"{t}\""))),
            },
        };
        let application_name = get("application_name", Some("PGAPPNAME"))
            .or_else(|| get("fallback_application_name", None));
        let options = get("options", Some("PGOPTIONS"));

        let password = get("password", Some("PGPASSWORD")).or_else(|| {
            let file = get("passfile", Some("PGPASSFILE"))
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
            pgpass::lookup(
                &file,
                &pgpass::Lookup {
                    host: &hosts[0],
                    port: ports[0],
                    dbname: &dbname,
                    user: &user,
                },
            )
        });

        let mut config = tokio_postgres::Config::new();
        for h in &hosts {
            config.host(h);
        }
        for a in &hostaddrs {
            config.hostaddr(*a);
        }
        for p in &ports {
            config.port(*p);
        }
        config.user(&user).dbname(&dbname);
        if let Some(pw) = &password {
            config.password(pw);
        }
        if let Some(o) = &options {
            config.options(o);
        }
        if let Some(a) = &application_name {
            config.application_name(a);
        }
        if let Some(t) = connect_timeout {
            config.connect_timeout(t);
        }
        match get("target_session_attrs", Some("PGTARGETSESSIONATTRS")).as_deref() {
            None | Some("any") => {}
            Some("read-write") => {
                config.target_session_attrs(tokio_postgres::config::TargetSessionAttrs::ReadWrite);
            }
            Some(o) => return Err(bad(format!("invalid target_session_attrs \"{o}\""))),
        }
        match raw.get("keepalives") {
            None | Some("1") => {}
            Some("0") => {
                config.keepalives(false);
            }
            Some(o) => return Err(bad(format!("invalid keepalives \"{o}\""))),
        }
        if let Some(k) = raw.get("keepalives_idle") {
            let secs: u64 = k
                .parse()
                .map_err(|_| bad(format!("invalid keepalives_idle \"{k}\"")))?;
            config.keepalives_idle(Duration::from_secs(secs));
        }
        let all_unix = hosts.iter().all(|h| h.starts_with('/'));
        config.ssl_mode(match ssl_mode {
            _ if all_unix => tokio_postgres::config::SslMode::Disable,
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });

        Ok(ConnSpec {
            redacted: raw.redacted(),
            raw,
            config,
            hosts,
            ports,
            user,
            dbname,
            password,
            ssl_mode,
            root_cert,
            connect_timeout,
            application_name,
            end: None,
        })
    }
}

/// libpq's default: the compiled-in socket directory (Debian's
/// `/var/run/postgresql`) when it exists, else `localhost` over TCP.
fn default_host() -> String {
    let dir = "/var/run/postgresql";
    if std::path::Path::new(dir).is_dir() {
        dir.to_string()
    } else {
        "localhost".to_string()
    }
}

/// The effective OS user's name, as libpq finds it when `USER` is unset.
fn os_user() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy
    // the name out immediately and never keep the pointer. pgferry does not
    // call getpwuid from several threads at once during start-up.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_str()
            .ok()
            .map(str::to_string)
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

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
