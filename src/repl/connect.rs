//! Opening a replication session (`replication=database`): socket, TLS,
//! start-up packet, authentication.
//!
//! tokio-postgres cannot send the `replication` start-up parameter, so we
//! speak the start-up protocol ourselves, but from the same [`ConnSpec`] as
//! every other pgferry connection (connection string, libpq environment,
//! `.pgpass`), with the same TLS verifier (`sslmode` up to `verify-full`,
//! `sslrootcert`) and the same [`ConnError`]s, so a bad source fails the same
//! way (exit 2) whichever kind of connection notices first.

use super::conn::ReplConnection;
use super::wire::{Frame, Io, ServerNotice, Wire};
use crate::pg::{scrub, ConnError, ConnSpec, End, SslMode, Verification};
use bytes::Bytes;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::{TcpSocket, TcpStream, UnixStream};
use tokio_postgres::config::{Host, TargetSessionAttrs};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};

/// Session settings sent in the start-up packet, after the user's own
/// `options` so they win: the walsender formats every value with them, and
/// the apply side needs one fixed text form whatever the source's defaults.
const PINNED_OPTIONS: &str =
    "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC -c extra_float_digits=3";

/// Who we are talking to, for messages and password scrubbing.
#[derive(Clone)]
pub(crate) struct Peer {
    /// "the source <redacted connection string>".
    pub target: Arc<str>,
    password: Option<Arc<str>>,
}

impl Peer {
    pub fn new(spec: &ConnSpec) -> Peer {
        Peer {
            target: format!("the source {} (replication connection)", spec.redacted()).into(),
            password: spec.password().map(Into::into),
        }
    }
    /// `msg` with the password masked.
    pub fn clean(&self, msg: &str) -> String {
        scrub(msg, self.password.as_deref())
    }
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.target)
    }
}

/// Opens a replication session to the source. `purpose` goes into
/// `application_name`, as for [`crate::pg::connect`]. Hosts are tried in
/// order, as libpq does; the error of the last one is returned.
pub(crate) async fn open(spec: &ConnSpec, purpose: &str) -> Result<ReplConnection, ConnError> {
    let peer = Peer::new(spec);
    let config = &spec.config;
    let hosts = config.get_hosts();
    let ports = config.get_ports();
    let hostaddrs = config.get_hostaddrs();
    let mut last = None;
    for (i, host) in hosts.iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let attempt = open_one(spec, &peer, host, hostaddrs.get(i).copied(), port, purpose);
        let result = match spec.connect_timeout() {
            None => attempt.await,
            // As libpq: the timeout covers the whole start-up of one host.
            Some(t) => tokio::time::timeout(t, attempt).await.unwrap_or_else(|_| {
                Err(ConnError::Unreachable {
                    end: Some(End::Source),
                    target: peer.target.to_string(),
                    host: peer.clean(&spec.host_description()),
                    detail: format!("no answer within {}s", t.as_secs()),
                })
            }),
        };
        match result {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                tracing::debug!("replication connection to host {} failed: {e}", i + 1);
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| ConnError::malformed("no host to connect to").at(End::Source)))
}

async fn open_one(
    spec: &ConnSpec,
    peer: &Peer,
    host: &Host,
    hostaddr: Option<IpAddr>,
    port: u16,
    purpose: &str,
) -> Result<ReplConnection, ConnError> {
    let unreachable = |detail: String| ConnError::Unreachable {
        end: Some(End::Source),
        target: peer.target.to_string(),
        host: peer.clean(&spec.host_description()),
        detail: peer.clean(&detail),
    };
    let (io, tls_host): (Box<dyn Io>, Option<&str>) = match host {
        Host::Unix(dir) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let s = UnixStream::connect(&path)
                .await
                .map_err(|e| unreachable(format!("{}: {e}", path.display())))?;
            (Box::new(s), None)
        }
        Host::Tcp(name) => {
            let s = tcp_connect(name, hostaddr, port, spec.config.get_keepalives())
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            (Box::new(s), Some(name.as_str()))
        }
    };
    let wire = match tls_host {
        Some(name) if spec.ssl_mode() != SslMode::Disable => {
            negotiate_tls(spec, peer, Wire::new(io), name).await?
        }
        _ => Wire::new(io),
    };
    let mut conn = startup(spec, peer, wire, purpose).await?;
    if spec.config.get_target_session_attrs() == TargetSessionAttrs::ReadWrite {
        let ro = conn
            .show("transaction_read_only")
            .await
            .map_err(|e| other(peer, e.to_string()))?;
        if ro == "on" {
            conn.close().await;
            return Err(other(
                peer,
                "the server is read-only (target_session_attrs=read-write)".into(),
            ));
        }
    }
    Ok(conn)
}

/// TCP with keepalives on (unless `keepalives=0`), so a snapshot holder
/// idle for hours behind a NAT or load balancer is not silently cut. The OS
/// default idle time applies (Linux: 2 h, as libpq); `keepalives_idle` is
/// not applied here because tokio cannot set it without socket2.
async fn tcp_connect(
    name: &str,
    hostaddr: Option<IpAddr>,
    port: u16,
    keepalives: bool,
) -> std::io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = match hostaddr {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => tokio::net::lookup_host((name, port)).await?.collect(),
    };
    let mut last = None;
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_keepalive(keepalives)?;
        match socket.connect(addr).await {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::other(format!("host name \"{name}\" resolved to no address"))
    }))
}

/// SSLRequest, then the TLS handshake with pgferry's rustls verifier.
async fn negotiate_tls(
    spec: &ConnSpec,
    peer: &Peer,
    mut wire: Wire,
    host: &str,
) -> Result<Wire, ConnError> {
    let tls_err = |detail: String| ConnError::Tls {
        end: Some(End::Source),
        target: peer.target.to_string(),
        detail: peer.clean(&detail),
    };
    let io_err = |e: std::io::Error| ConnError::Unreachable {
        end: Some(End::Source),
        target: peer.target.to_string(),
        host: peer.clean(&spec.host_description()),
        detail: peer.clean(&e.to_string()),
    };
    // Build the connector first: a missing sslrootcert file is reported
    // before any traffic, as for normal connections.
    let mut connector = crate::pg::tls_connector(spec)?;
    frontend::ssl_request(&mut wire.wbuf);
    wire.flush().await.map_err(io_err)?;
    match wire.read_byte().await.map_err(io_err)? {
        b'S' => {}
        b'N' if !spec.requires_tls() => return Ok(wire),
        b'N' => {
            return Err(tls_err(
                "the server does not support SSL, but the sslmode requires it; enable ssl on the \
                 server, or use sslmode=prefer (unencrypted if the server has no SSL)"
                    .into(),
            ))
        }
        other => {
            return Err(tls_err(format!(
                "unexpected answer {:?} to the SSL request",
                other as char
            )))
        }
    }
    let io = wire.into_io().map_err(|e| tls_err(e.to_string()))?;
    let tls = MakeTlsConnect::<Box<dyn Io>>::make_tls_connect(&mut connector, host)
        .map_err(|e| tls_err(format!("invalid server name \"{host}\": {e}")))?;
    let stream = tls
        .connect(io)
        .await
        .map_err(|e| tls_err(tls_failure(spec, &e)))?;
    Ok(Wire::new(Box::new(stream)))
}

/// Says which TLS check failed and what to change (the same advice as for
/// normal connections).
fn tls_failure(spec: &ConnSpec, e: &std::io::Error) -> String {
    use rustls::CertificateError as C;
    let roots = match spec.root_cert() {
        Some(crate::pg::RootCert::File(p)) => format!("the CA certificates in {}", p.display()),
        _ => "the built-in Mozilla CA list (no sslrootcert given)".to_string(),
    };
    let rustls_err = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(C::UnknownIssuer)) => format!(
            "the server certificate is not trusted: it is not signed by {roots}; set \
             sslrootcert to the CA certificate or bundle of the server"
        ),
        Some(rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        )) => {
            let level = if crate::pg::tls_verification(spec) == Verification::ChainAndName {
                "sslmode=verify-full"
            } else {
                "the sslmode"
            };
            format!(
                "the server certificate does not match the host name {} ({level} checks it); \
                 connect using a name listed in the certificate, or use sslmode=verify-ca to \
                 check only the CA",
                spec.host_description()
            )
        }
        Some(rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. })) => {
            "the server certificate has expired".to_string()
        }
        Some(r) => format!("TLS handshake failed: {r}"),
        None => format!("TLS handshake failed: {e}"),
    }
}

fn other(peer: &Peer, detail: String) -> ConnError {
    ConnError::Other {
        end: Some(End::Source),
        target: peer.target.to_string(),
        detail: peer.clean(&detail),
        code: None,
    }
}

/// Start-up packet, authentication, then ParameterStatus messages up to
/// the first ReadyForQuery.
async fn startup(
    spec: &ConnSpec,
    peer: &Peer,
    mut wire: Wire,
    purpose: &str,
) -> Result<ReplConnection, ConnError> {
    let config = &spec.config;
    let app = match spec.application_name() {
        Some(app) => format!("{app} (pgferry {purpose})"),
        None => format!("pgferry {purpose}"),
    };
    let options = match config.get_options() {
        Some(user) if !user.trim().is_empty() => format!("{user} {PINNED_OPTIONS}"),
        _ => PINNED_OPTIONS.to_string(),
    };
    let user = spec.user().to_string();
    let dbname = spec.dbname();
    let params = [
        ("user", user.as_str()),
        ("database", dbname.as_str()),
        ("replication", "database"),
        ("client_encoding", "UTF8"),
        ("application_name", app.as_str()),
        ("options", options.as_str()),
    ];
    let io_err = |during: &str, e: std::io::Error| ConnError::Unreachable {
        end: Some(End::Source),
        target: peer.target.to_string(),
        host: peer.clean(&spec.host_description()),
        detail: peer.clean(&format!("{during}: {e}")),
    };
    frontend::startup_message(params.iter().copied(), &mut wire.wbuf)
        .map_err(|e| ConnError::malformed(peer.clean(&e.to_string())).at(End::Source))?;
    wire.flush()
        .await
        .map_err(|e| io_err("sending the start-up packet", e))?;

    authenticate(spec, peer, &mut wire).await?;

    let mut server_version = String::new();
    loop {
        let frame = next(peer, spec, &mut wire, "starting the session").await?;
        match frame.tag {
            b'S' => {
                let mut b = super::wire::Body::new(frame.body);
                if let (Ok(name), Ok(value)) = (b.cstr(), b.cstr()) {
                    if name == "server_version" {
                        server_version = value;
                    }
                }
            }
            b'K' => {}
            b'N' => log_notice(peer, frame.body),
            b'Z' => break,
            b'E' => return Err(server_error(spec, peer, frame.body)),
            t => {
                return Err(other(
                    peer,
                    format!("unexpected message {:?} during start-up", t as char),
                ))
            }
        }
    }
    let version_num = parse_server_version(&server_version).ok_or_else(|| {
        other(
            peer,
            format!("cannot read the server version \"{server_version}\""),
        )
    })?;
    if version_num < 100_000 {
        return Err(other(
            peer,
            format!(
                "PostgreSQL {server_version} has no logical replication protocol; \
                 pgferry needs 10 or later"
            ),
        ));
    }
    tracing::debug!(
        "replication connection open to {} (server {server_version})",
        peer.target
    );
    Ok(ReplConnection::new(
        wire,
        peer.clone(),
        version_num,
        server_version,
    ))
}

async fn next(
    peer: &Peer,
    spec: &ConnSpec,
    wire: &mut Wire,
    during: &str,
) -> Result<Frame, ConnError> {
    match wire.read_frame().await {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(other(
            peer,
            format!("the server closed the connection while {during}"),
        )),
        Err(e) => Err(ConnError::Unreachable {
            end: Some(End::Source),
            target: peer.target.to_string(),
            host: peer.clean(&spec.host_description()),
            detail: peer.clean(&format!("{during}: {e}")),
        }),
    }
}

/// Cleartext, MD5 and SCRAM-SHA-256, as tokio-postgres does them.
///
/// SCRAM runs without channel binding (`n` flag): tokio-postgres keeps the
/// TLS end-point hash private, and computing it ourselves would need an
/// X.509 parser. With `sslmode=verify-full` the server is authenticated by
/// its certificate anyway.
async fn authenticate(spec: &ConnSpec, peer: &Peer, wire: &mut Wire) -> Result<(), ConnError> {
    let auth_err = |detail: String| ConnError::Auth {
        end: Some(End::Source),
        target: peer.target.to_string(),
        user: spec.user().to_string(),
        detail: peer.clean(&detail),
    };
    let password = || {
        spec.password().ok_or_else(|| {
            auth_err(format!(
                "the server asks for a password for user \"{}\" and none was given",
                spec.user()
            ))
        })
    };
    let mut scram: Option<sasl::ScramSha256> = None;
    loop {
        let frame = next(peer, spec, wire, "authenticating").await?;
        match frame.tag {
            b'R' => {}
            b'E' => return Err(server_error(spec, peer, frame.body)),
            b'N' => {
                log_notice(peer, frame.body);
                continue;
            }
            t => {
                return Err(other(
                    peer,
                    format!("unexpected message {:?} during authentication", t as char),
                ))
            }
        }
        let mut b = super::wire::Body::new(frame.body);
        let malformed = |_| other(peer, "malformed authentication request".into());
        match b.i32().map_err(malformed)? {
            0 => return Ok(()),
            3 => {
                frontend::password_message(password()?.as_bytes(), &mut wire.wbuf)
                    .map_err(|e| auth_err(e.to_string()))?;
            }
            5 => {
                let salt = b.bytes(4).map_err(malformed)?;
                let salt = <[u8; 4]>::try_from(&salt[..])
                    .map_err(|_| other(peer, "malformed MD5 salt".into()))?;
                let hash = md5_hash(spec.user().as_bytes(), password()?.as_bytes(), salt);
                frontend::password_message(hash.as_bytes(), &mut wire.wbuf)
                    .map_err(|e| auth_err(e.to_string()))?;
            }
            10 => {
                let mut has_scram = false;
                while let Ok(m) = b.cstr() {
                    if m.is_empty() {
                        break;
                    }
                    has_scram |= m == sasl::SCRAM_SHA_256;
                }
                if !has_scram {
                    return Err(auth_err(
                        "the server offers no SASL mechanism pgferry supports \
                         (SCRAM-SHA-256)"
                            .into(),
                    ));
                }
                let s = sasl::ScramSha256::new(
                    password()?.as_bytes(),
                    sasl::ChannelBinding::unsupported(),
                );
                frontend::sasl_initial_response(sasl::SCRAM_SHA_256, s.message(), &mut wire.wbuf)
                    .map_err(|e| auth_err(e.to_string()))?;
                scram = Some(s);
            }
            11 => {
                let s = scram
                    .as_mut()
                    .ok_or_else(|| other(peer, "SASL continue without SASL start".into()))?;
                s.update(&b.rest())
                    .map_err(|e| auth_err(format!("SCRAM: {e}")))?;
                frontend::sasl_response(s.message(), &mut wire.wbuf)
                    .map_err(|e| auth_err(e.to_string()))?;
            }
            12 => {
                let mut s = scram
                    .take()
                    .ok_or_else(|| other(peer, "SASL final without SASL start".into()))?;
                s.finish(&b.rest())
                    .map_err(|e| auth_err(format!("SCRAM: the server's proof is wrong: {e}")))?;
                continue;
            }
            code => {
                return Err(auth_err(format!(
                    "the server asks for an authentication method pgferry does not support \
                     (code {code}); use password, md5 or scram-sha-256 in pg_hba.conf"
                )))
            }
        }
        wire.flush().await.map_err(|e| ConnError::Unreachable {
            end: Some(End::Source),
            target: peer.target.to_string(),
            host: peer.clean(&spec.host_description()),
            detail: peer.clean(&format!("authenticating: {e}")),
        })?;
    }
}

/// An ErrorResponse during start-up, mapped like tokio-postgres errors are
/// for normal connections.
fn server_error(spec: &ConnSpec, peer: &Peer, body: Bytes) -> ConnError {
    let n = ServerNotice::parse(body);
    let target = peer.target.to_string();
    let msg = peer.clean(&n.message);
    match n.code.as_str() {
        "28P01" | "28000" => ConnError::Auth {
            end: Some(End::Source),
            target,
            user: spec.user().to_string(),
            detail: msg,
        },
        // "must be superuser or replication role to start walsender"
        "42501" => ConnError::Auth {
            end: Some(End::Source),
            target,
            user: spec.user().to_string(),
            detail: format!(
                "{msg}; the role needs the REPLICATION attribute (ALTER ROLE ... REPLICATION; \
                 on Amazon RDS/Aurora: GRANT rds_replication)"
            ),
        },
        "3D000" => ConnError::NoDatabase {
            end: Some(End::Source),
            target,
            dbname: spec.dbname(),
        },
        code => ConnError::Other {
            end: Some(End::Source),
            target,
            detail: format!("{msg} (SQLSTATE {code}){}", peer.clean(&n.extra())),
            code: Some(tokio_postgres::error::SqlState::from_code(code)),
        },
    }
}

pub(crate) fn log_notice(peer: &Peer, body: Bytes) {
    let n = ServerNotice::parse(body);
    tracing::info!(
        "{}: {}: {}{}",
        peer.target,
        n.severity,
        peer.clean(&n.message),
        peer.clean(&n.extra())
    );
}

/// `server_version` ("10.23", "15.4 (Debian 15.4-1)", "18beta1") as
/// `server_version_num` (100023, 150004, 180000).
pub(crate) fn parse_server_version(v: &str) -> Option<u32> {
    let digits = |s: &str| -> (Option<u32>, usize) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (s.get(..n).and_then(|d| d.parse().ok()), n)
    };
    let (major, n) = digits(v);
    let major = major?;
    let rest = v.get(n..).unwrap_or("");
    let minor = match rest.strip_prefix('.') {
        Some(r) => digits(r).0.unwrap_or(0),
        None => 0,
    };
    if major >= 10 {
        Some(major * 10_000 + minor)
    } else {
        // 9.6.24 -> 90624
        let patch = rest
            .strip_prefix('.')
            .and_then(|r| r.split_once('.'))
            .and_then(|(_, p)| digits(p).0)
            .unwrap_or(0);
        Some(major * 10_000 + minor * 100 + patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions() {
        assert_eq!(parse_server_version("10.23"), Some(100_023));
        assert_eq!(
            parse_server_version("15.4 (Debian 15.4-1.pgdg120+1)"),
            Some(150_004)
        );
        assert_eq!(parse_server_version("18beta1"), Some(180_000));
        assert_eq!(parse_server_version("17.0"), Some(170_000));
        assert_eq!(parse_server_version("9.6.24"), Some(90_624));
        assert_eq!(parse_server_version(""), None);
        assert_eq!(parse_server_version("abc"), None);
    }
}
