//! The client's TLS configuration, with the platform's root certificates loaded on the
//! first https handshake rather than when the client is built.
//!
//! reqwest's own rustls setup builds `rustls-platform-verifier`'s verifier with the client,
//! and on Linux that reads and parses every file of the system's certificate folders (439
//! files on the build machine, a few milliseconds) — for a run that may only ever speak
//! plain `http://`. [`LazyVerifier`] builds that same verifier when a server first shows a
//! certificate, once per client. Handshake signatures are checked with the crypto
//! provider's algorithms, as the platform verifier does on Linux, which needs no roots.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// A PEM file of the environment's TLS settings that rustls cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TlsSetupError(String);

/// The platform's verifier (system roots plus the environment's CA), built on first use.
#[derive(Debug)]
pub(crate) struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn new(provider: Arc<CryptoProvider>, extra_roots: Vec<CertificateDer<'static>>) -> Self {
        Self {
            provider,
            extra_roots,
            verifier: OnceLock::new(),
        }
    }

    /// True once the roots have been loaded (for tests).
    #[cfg(test)]
    fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }

    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                tracing::debug!("loading the platform's TLS root certificates");
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra_roots.iter().cloned(),
                    Arc::clone(&self.provider),
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client certificate chain and its private key (mTLS).
#[derive(Debug)]
pub(crate) struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// The certificate chain and the private key of a PEM text holding both.
pub(crate) fn identity(pem: &[u8]) -> Result<Identity, TlsSetupError> {
    Ok(Identity {
        chain: certificates(pem)?,
        key: PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| TlsSetupError(format!("no private key in PEM: {e}")))?,
    })
}

/// Every certificate of a PEM text (a CA file may hold several).
pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError(format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsSetupError("no certificate in PEM".to_owned()));
    }
    Ok(certs)
}

/// The rustls configuration reqwest would build (TLS 1.2 and 1.3, ALPN `h2` then
/// `http/1.1`, SNI on), trusting the platform's roots plus `extra_roots` and presenting
/// `identity` when given, with the roots loaded on the first handshake.
pub(crate) fn client_config(
    extra_roots: Vec<CertificateDer<'static>>,
    identity: Option<Identity>,
) -> Result<rustls::ClientConfig, TlsSetupError> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = Arc::new(LazyVerifier::new(Arc::clone(&provider), extra_roots));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError(format!("no TLS version to offer: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some(Identity { chain, key }) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| TlsSetupError(format!("unusable client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_not_loaded_until_a_server_shows_a_certificate() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = LazyVerifier::new(provider, Vec::new());
        // What a handshake asks before the certificate: no roots needed.
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(!verifier.loaded());

        // A server's certificate (garbage here) makes it load the roots, then check.
        let result = verifier.verify_server_cert(
            &CertificateDer::from(vec![0u8; 8]),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            &[],
            UnixTime::now(),
        );
        assert!(verifier.loaded());
        assert!(result.is_err(), "a garbage certificate is refused");
    }

    #[test]
    fn a_pem_without_a_certificate_or_key_is_refused() {
        let err = certificates(b"not a pem").unwrap_err();
        assert_eq!(err.to_string(), "no certificate in PEM");
        let err = identity(b"not a pem").unwrap_err();
        assert_eq!(err.to_string(), "no certificate in PEM");
    }

    #[test]
    fn a_config_without_extra_roots_or_identity_offers_h2_and_http1() {
        let config = client_config(Vec::new(), None).unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.enable_sni);
    }
}
