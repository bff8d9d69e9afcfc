//! TLS for server connections, with libpq's `sslmode` meanings.
//!
//! tokio-postgres only negotiates TLS (disable/prefer/require); what is
//! checked about the server certificate is decided here, by the rustls
//! verifier we install:
//!
//! | sslmode              | chain checked | host name checked |
//! |----------------------|---------------|-------------------|
//! | allow/prefer/require | no (*)        | no                |
//! | verify-ca            | yes           | no                |
//! | verify-full          | yes           | yes               |
//!
//! (*) As in libpq, when `sslrootcert` names a file, allow/prefer/require
//! also check the chain (libpq: "if a root CA file exists, require behaves
//! like verify-ca"). Without verification the handshake signatures are still
//! checked, so the connection is encrypted to whoever holds the key of the
//! certificate presented, as with libpq.
//!
//! Trusted roots: the `sslrootcert` PEM file (one certificate or a bundle)
//! when given, else the Mozilla roots from webpki-roots. Managed-cloud CAs
//! (AWS RDS, Azure, GCP) are usually in neither, hence `sslrootcert`.

use super::spec::{RootCert, SslMode};
use super::{ConnError, ConnSpec};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Installs ring as the process-wide rustls provider. Idempotent: a provider
/// already installed (by us or anyone) is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How much of the server certificate we check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    None,
    Chain,
    ChainAndName,
}

/// The verification level for a spec (see the module table).
pub(crate) fn verification(spec: &ConnSpec) -> Verification {
    match (spec.ssl_mode(), spec.root_cert()) {
        (SslMode::VerifyFull, _) => Verification::ChainAndName,
        (SslMode::VerifyCa, _) => Verification::Chain,
        (SslMode::Disable, _) => Verification::None,
        (_, Some(RootCert::File(_))) => Verification::Chain,
        _ => Verification::None,
    }
}

/// Builds the TLS connector for `spec`. Reads the `sslrootcert` file, so a
/// missing or empty bundle is reported before any network traffic.
pub(crate) fn connector(spec: &ConnSpec) -> Result<MakeRustlsConnect, ConnError> {
    install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let level = verification(spec);
    let verifier: Arc<dyn ServerCertVerifier> = match level {
        Verification::None => Arc::new(NoVerification(Arc::clone(&provider))),
        _ => {
            let roots = Arc::new(root_store(spec)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| tls_error(spec, format!("cannot use the root certificates: {e}")))?;
            if level == Verification::Chain {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(spec, format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn tls_error(spec: &ConnSpec, detail: String) -> ConnError {
    ConnError::Tls {
        end: spec.end(),
        target: spec.redacted().to_string(),
        detail,
    }
}

/// Trusted roots: the `sslrootcert` file, or webpki-roots.
fn root_store(spec: &ConnSpec) -> Result<RootCertStore, ConnError> {
    let Some(RootCert::File(path)) = spec.root_cert() else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| tls_error(spec, format!("cannot read sslrootcert file {shown}: {e}")))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            tls_error(
                spec,
                format!("sslrootcert file {shown} is not valid PEM: {e}"),
            )
        })?;
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(tls_error(
            spec,
            format!("sslrootcert file {shown} holds no usable CA certificate"),
        ));
    }
    Ok(store)
}

/// `sslmode=require` without a root file: accept any certificate, but still
/// check that the server holds its key (handshake signatures).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full webpki check, minus the host name. rustls checks the
/// chain before the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError as C;
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(s: &str) -> Verification {
        let env = |_: &str| None;
        verification(&ConnSpec::parse_with_env(s, &env).unwrap())
    }

    #[test]
    fn sslmode_to_verification() {
        assert_eq!(level("host=h sslmode=require"), Verification::None);
        assert_eq!(level("host=h sslmode=prefer"), Verification::None);
        assert_eq!(level("host=h sslmode=verify-ca"), Verification::Chain);
        assert_eq!(
            level("host=h sslmode=verify-full"),
            Verification::ChainAndName
        );
        assert_eq!(
            level("host=h sslmode=require sslrootcert=/x.pem"),
            Verification::Chain
        );
        assert_eq!(
            level("host=h sslrootcert=system"),
            Verification::ChainAndName
        );
    }

    #[test]
    fn missing_or_empty_root_file_is_a_tls_error() {
        let env = |_: &str| None;
        let spec = ConnSpec::parse_with_env(
            "host=h sslmode=verify-ca sslrootcert=/nonexistent.pem",
            &env,
        )
        .unwrap();
        let err = connector(&spec).err().unwrap();
        assert!(matches!(err, ConnError::Tls { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent.pem"));

        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let s = format!("host=h sslmode=verify-ca sslrootcert={}", empty.display());
        let spec = ConnSpec::parse_with_env(&s, &env).unwrap();
        let err = connector(&spec).err().unwrap();
        assert!(
            err.to_string().contains("no usable CA certificate"),
            "{err}"
        );
    }

    #[test]
    fn webpki_roots_when_no_file() {
        let env = |_: &str| None;
        let spec = ConnSpec::parse_with_env("host=h sslmode=verify-full", &env).unwrap();
        assert!(connector(&spec).is_ok());
    }
}
