//! A throwaway certificate authority and server certificate for TLS tests.
//!
//! Made with the `openssl` CLI (installed by install-postgres.sh) so the
//! crate needs no certificate-generation dependency just for tests.

use super::proc::{chown_to, run_checked, ServerUser};
use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Paths of the generated files.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Own config file: the system openssl.cnf differs between distributions and
/// `-addext` clashes with extensions it already adds.
const CONF: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = pgferry test CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let mut cmd = Command::new("openssl");
    cmd.args(args).current_dir(dir);
    run_checked(&mut cmd, "openssl").map(|_| ())
}

/// Generates `ca.crt` and a server cert for CN/SAN localhost and 127.0.0.1
/// signed by it in `dir`; the server key is 0600 and owned by the server user
/// because postgres refuses group/world-readable keys.
pub(crate) fn generate(dir: &Path, user: Option<&ServerUser>) -> anyhow::Result<TlsFiles> {
    std::fs::create_dir_all(dir).with_context(|| format!("mkdir {}", dir.display()))?;
    std::fs::write(dir.join("openssl.cnf"), CONF).context("write openssl.cnf")?;
    let days = "3650";
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            days,
            "-config",
            "openssl.cnf",
            "-extensions",
            "ca_ext",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
    )?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-config",
            "openssl.cnf",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sha256",
            "-days",
            days,
            "-extfile",
            "openssl.cnf",
            "-extensions",
            "server_ext",
            "-out",
            "server.crt",
        ],
    )?;
    let files = TlsFiles {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
    };
    std::fs::set_permissions(&files.server_key, std::fs::Permissions::from_mode(0o600))
        .context("chmod server.key")?;
    chown_to(&files.server_key, user)?;
    // Certificates are public; clients running as other users read ca.crt.
    for f in [&files.ca_cert, &files.server_cert] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("chmod {}", f.display()))?;
    }
    std::fs::remove_file(dir.join("ca.key")).context("remove ca.key")?;
    Ok(files)
}
