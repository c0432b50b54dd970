//! Mutual TLS for the v2 sandbox, as at `api.mch.weixin.qq.com`, where `/secapi/…` is
//! only served to a client presenting the merchant API certificate.
//!
//! [`SandboxTls::generate`] makes a sandbox CA, the gateway's server certificate under it
//! (for `127.0.0.1` and `localhost`), and the merchant API certificate under it (`CN` =
//! `mch_id`, as WeChat's `apiclient_cert.pem`). [`serve_tls`] serves a router on a
//! listener the caller bound: every connection must complete a TLS handshake with a
//! client certificate issued by that CA (rustls `WebPkiClientVerifier`), else it is
//! dropped before any HTTP is read. The verified certificate's serial is handed to the
//! handlers as [`TlsPeer`] (`ConnectInfo`), which is how `/secapi/pay/refund` knows the
//! request came over mutual TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::provider::crypto::{CertInfo, CryptoError, RsaSigner, pem_blocks};
use crate::provider::secret::SecretString;
use crate::provider::wechatpay_v2::ClientIdentity;
use crate::sandbox::certs::{IssuedCert, SandboxCa, VALIDITY_SECS};

/// The sandbox's TLS material. `Debug` shows no key.
#[derive(Clone, Debug)]
pub struct SandboxTls {
    /// Issues both the server and the merchant certificate; clients trust it through
    /// [`WechatPayV2Config::root_ca_pem`](super::super::WechatPayV2Config::root_ca_pem).
    pub ca: SandboxCa,
    pub server: IssuedCert,
    /// The merchant API certificate and key the sandbox channel presents.
    pub merchant: IssuedCert,
}

/// Which connection a request came on: the peer and, over mutual TLS, the serial of the
/// verified client certificate.
#[derive(Clone, Debug)]
pub struct TlsPeer {
    pub addr: SocketAddr,
    pub client_cert_serial: Option<String>,
}

fn der_of(pem: &str) -> Result<Vec<u8>, CryptoError> {
    pem_blocks(pem)?
        .into_iter()
        .find(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
        .ok_or(CryptoError::Certificate)
}

/// A leaf certificate under `ca` with an extended key usage and, for servers, the
/// subject alternative names `127.0.0.1` and `localhost` (rustls checks names only there).
fn issue_leaf(
    ca: &SandboxCa,
    key: RsaSigner,
    subject: &str,
    server: bool,
    not_before: i64,
) -> Result<IssuedCert, CryptoError> {
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::asn1::{Ia5String, OctetString};
    use x509_cert::der::{EncodePem, oid::ObjectIdentifier};
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::{Time, Validity};

    fn bad<E>(_: E) -> CryptoError {
        CryptoError::Certificate
    }
    let time = |unix: i64| {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0));
        Time::try_from(at).map_err(bad)
    };
    // The CA's key, as a signer the certificate builder takes.
    let ca_pem = ca.cert.key.to_pkcs1_pem()?;
    let ca_key = rsa::RsaPrivateKey::from_pkcs1_pem(ca_pem.expose()).map_err(bad)?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(ca_key);
    let subject_pem = key.to_pkcs1_pem()?;
    let subject_key = rsa::RsaPrivateKey::from_pkcs1_pem(subject_pem.expose()).map_err(bad)?;
    let spki = SubjectPublicKeyInfoOwned::from_key(subject_key.to_public_key()).map_err(bad)?;
    let mut serial: [u8; 20] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    let mut builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: ca.name.parse().map_err(bad)?,
            enable_key_agreement: false,
            enable_key_encipherment: true,
        },
        SerialNumber::new(&serial).map_err(bad)?,
        Validity {
            not_before: time(not_before)?,
            not_after: time(not_before + VALIDITY_SECS)?,
        },
        subject.parse().map_err(bad)?,
        spki,
        &signer,
    )
    .map_err(bad)?;
    // id-kp-serverAuth / id-kp-clientAuth (RFC 5280 §4.2.1.12).
    let eku = if server {
        "1.3.6.1.5.5.7.3.1"
    } else {
        "1.3.6.1.5.5.7.3.2"
    };
    let eku = ObjectIdentifier::new(eku).map_err(bad)?;
    builder
        .add_extension(&ExtendedKeyUsage(vec![eku]))
        .map_err(bad)?;
    if server {
        let san = SubjectAltName(vec![
            GeneralName::IpAddress(OctetString::new(vec![127, 0, 0, 1]).map_err(bad)?),
            GeneralName::DnsName(Ia5String::new("localhost").map_err(bad)?),
        ]);
        builder.add_extension(&san).map_err(bad)?;
    }
    let cert = builder.build::<rsa::pkcs1v15::Signature>().map_err(bad)?;
    let pem = cert.to_pem(rsa::pkcs8::LineEnding::LF).map_err(bad)?;
    IssuedCert::from_parts(key, pem)
}

impl SandboxTls {
    /// Fresh CA, server and merchant certificates (three RSA-2048 keys: run it on the
    /// blocking pool in a server). Valid from a day before `now` (clocks differ).
    pub fn generate(mch_id: &str, now: i64) -> Result<SandboxTls, CryptoError> {
        let not_before = now - 86_400;
        let ca = SandboxCa::generate(
            "CN=paydesk sandbox WeChat Pay v2 CA,O=paydesk,C=CN",
            not_before,
        )?;
        let server = issue_leaf(
            &ca,
            RsaSigner::generate()?,
            "CN=127.0.0.1,O=paydesk sandbox,C=CN",
            true,
            not_before,
        )?;
        // WeChat's merchant certificates name the merchant number as CN.
        let subject = format!("CN={mch_id},OU=paydesk sandbox,O=paydesk,C=CN");
        let merchant = issue_leaf(&ca, RsaSigner::generate()?, &subject, false, not_before)?;
        Ok(SandboxTls {
            ca,
            server,
            merchant,
        })
    }

    /// The merchant identity for [`WechatPayV2Config::identity`](super::super::WechatPayV2Config::identity).
    pub fn client_identity(&self) -> Result<ClientIdentity, CryptoError> {
        Ok(ClientIdentity {
            cert_pem: self.merchant.pem.clone(),
            key_pem: self.merchant.key.to_pkcs1_pem()?,
        })
    }

    /// The CA certificate clients trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca.cert.pem
    }

    /// The rustls server configuration: our server certificate, client certificates
    /// required and verified against the sandbox CA, HTTP/1.1.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, CryptoError> {
        fn bad<E>(_: E) -> CryptoError {
            CryptoError::Certificate
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(der_of(&self.ca.cert.pem)?))
            .map_err(bad)?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(bad)?;
        let key_pem: SecretString = self.server.key.to_pkcs1_pem()?;
        let key_der = pem_blocks(key_pem.expose())?
            .into_iter()
            .find(|b| b.label == "RSA PRIVATE KEY")
            .ok_or(CryptoError::PrivateKey)?
            .der;
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(bad)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(der_of(&self.server.pem)?)],
                PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(key_der)),
            )
            .map_err(bad)?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

/// Connections whose handshake completed (client certificate verified).
struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, TlsPeer)>,
    local: SocketAddr,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The acceptor task ended (its listener failed): serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<TlsPeer> {
        Ok(TlsPeer {
            addr: self.local,
            client_cert_serial: None,
        })
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Accepts TCP connections and runs each handshake in its own task (a slow or failing
/// client cannot hold up the others), passing the completed ones on.
async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, TlsPeer)>,
) {
    while !ready.is_closed() {
        let (stream, addr) = match tcp.accept().await {
            Ok(conn) => conn,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            // A refused handshake (no or foreign client certificate) is simply dropped:
            // the client sees the TLS alert.
            let Ok(Ok(tls)) = handshake.await else {
                return;
            };
            let client_cert_serial = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| CertInfo::from_der(c.as_ref()).ok())
                .map(|i| i.serial_hex_upper());
            let peer = TlsPeer {
                addr,
                client_cert_serial,
            };
            let _ = ready.send((tls, peer)).await;
        });
    }
}

/// Serves `router` over mutual TLS on `listener` (bind it to `127.0.0.1:0` in tests) in
/// background tasks, and returns the base URL (`https://127.0.0.1:port`).
pub fn serve_tls(
    listener: TcpListener,
    router: Router,
    config: Arc<rustls::ServerConfig>,
) -> std::io::Result<String> {
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
    let tls = TlsListener { ready: rx, local };
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<TlsPeer>();
        let _ = axum::serve(tls, service).await;
    });
    Ok(format!("https://{local}"))
}
