//! An https server on 127.0.0.1 with certificates made at test time, for
//! testing the https path with no network and no files.
//!
//! # Why
//!
//! Nearly every image URL in real life is https, and the https path (ureq
//! and rustls on the blocking pool) needs the same proof as the plain one:
//! a download works, a bad certificate is refused with the right error, a
//! silent server is bounded by the timeouts. A real certificate authority
//! cannot be used offline, so [`TestCa`] is one, made with `rcgen` when a
//! test starts: its root goes to the client under test
//! (`add_root_certificate`, `--cacert`), its leaves to the server.
//!
//! # How
//!
//! [`TlsServer::start`] binds `127.0.0.1:0` and accepts a bounded number
//! of connections, each on its own thread: a rustls server connection
//! (ring, the provider ureq uses), then requests read one after another
//! (keep-alive) and answered with the bytes `respond(path)` returns, built
//! with [`ok`], [`chunked_ok`] or [`redirect`]. [`TlsServer::stalling`]
//! accepts TCP connections and never answers the handshake. Every read and
//! write has a timeout, so no thread outlives a test by more than that.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::accept_loop::{Accepting, serve_each};

use rcgen::{
    BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How long a server socket waits on a read or a write.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);
/// The most connections one server accepts.
const MAX_CONNECTIONS: usize = 64;
/// The most requests served on one connection.
const MAX_REQUESTS: usize = 1000;

/// A certificate authority made for one test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A certificate chain and its key, for a server.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    /// The leaf certificate, PEM.
    pub pem: String,
}

impl TestCa {
    /// A fresh root.
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: two authorities sharing one would look to a
        // verifier like one authority with a bad signature.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("tandem test CA {}", NEXT.fetch_add(1, Ordering::SeqCst));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// The root certificate, PEM: what a client must trust.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names` (host names or IP addresses),
    /// valid from 1975 to 4096.
    pub fn leaf(&self, names: &[&str]) -> Identity {
        self.leaf_with(leaf_params(names))
    }

    /// A server certificate for `names` that expired in 2000.
    pub fn expired_leaf(&self, names: &[&str]) -> Identity {
        let mut params = leaf_params(names);
        params.not_before = date_time_ymd(1999, 1, 1);
        params.not_after = date_time_ymd(2000, 1, 1);
        self.leaf_with(params)
    }

    fn leaf_with(&self, params: CertificateParams) -> Identity {
        let key = KeyPair::generate().unwrap();
        let leaf = params.signed_by(&key, &self.issuer).unwrap();
        Identity {
            chain: vec![leaf.der().clone()],
            key: key.serialize_der(),
            pem: leaf.pem(),
        }
    }
}

/// A certificate for `names` signed by its own key: no authority at all.
pub fn self_signed(names: &[&str]) -> Identity {
    let key = KeyPair::generate().unwrap();
    let leaf = leaf_params(names).self_signed(&key).unwrap();
    Identity {
        chain: vec![leaf.der().clone()],
        key: key.serialize_der(),
        pem: leaf.pem(),
    }
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params
}

/// What the server answers to a request for a path: the raw response.
type Respond = dyn Fn(&str) -> Vec<u8> + Send + Sync;

/// An https (or stalling) server on 127.0.0.1.
pub struct TlsServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Serves https with `identity`, answering each request with
    /// `respond(path)`, keeping connections alive.
    pub fn start(
        identity: &Identity,
        respond: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
    ) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(identity.chain.clone(), key)
            .unwrap();
        let config = Arc::new(config);
        let respond: Arc<Respond> = Arc::new(respond);
        TlsServer::accepting(move |stream| serve(stream, Arc::clone(&config), &*respond))
    }

    /// Accepts TCP connections and never answers the TLS handshake: holds
    /// each until the client closes it or [`SOCKET_TIMEOUT`] passes.
    pub fn stalling() -> TlsServer {
        TlsServer::accepting(|mut stream| {
            let mut sink = [0u8; 1024];
            for _ in 0..100 {
                if !matches!(stream.read(&mut sink), Ok(n) if n > 0) {
                    return;
                }
            }
        })
    }

    fn accepting(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> TlsServer {
        let Accepting { port, accepted } = serve_each(MAX_CONNECTIONS, SOCKET_TIMEOUT, handle);
        TlsServer { port, accepted }
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        self.url_for_host("127.0.0.1", path)
    }

    /// `https://<host>:<port><path>`: the same server under another name.
    pub fn url_for_host(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// One connection: the handshake, then requests until the client stops.
fn serve(stream: TcpStream, config: Arc<ServerConfig>, respond: &Respond) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = BufReader::new(rustls::StreamOwned::new(connection, stream));
    for _ in 0..MAX_REQUESTS {
        let Some(path) = read_request(&mut tls) else {
            return;
        };
        let writer = tls.get_mut();
        if writer.write_all(&respond(&path)).is_err() || writer.flush().is_err() {
            return;
        }
    }
}

/// Reads one request head; its path, or `None` when the client closed,
/// refused the handshake, or sent something else.
fn read_request(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let path = line.split(' ').nth(1)?.to_string();
    for _ in 0..100 {
        line.clear();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        if line == "\r\n" {
            return Some(path);
        }
    }
    None
}

/// `200 Fine` (a reason phrase of the server's own) with `body`.
pub fn ok(body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 Fine\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

/// `200 OK` with `body` sent chunked, `piece` bytes a chunk.
pub fn chunked_ok(body: &[u8], piece: usize) -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.chunks(piece) {
        bytes.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend(chunk);
        bytes.extend(b"\r\n");
    }
    bytes.extend(b"0\r\n\r\n");
    bytes
}

/// `302 Found` to `location`.
pub fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}
