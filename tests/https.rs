//! https through `tandem::http`, against a TLS server on 127.0.0.1 with
//! certificates made when the test starts (tests/support/tls_server.rs):
//! downloads, refused certificates with their exact variant, private roots,
//! a handshake that never comes, redirects between http and https, and the
//! body limit.

#![cfg(feature = "tls")]

mod support;

use std::time::Duration;

use support::hostile_server::{HostileServer, respond};
use support::tls_server::{TestCa, TlsServer, chunked_ok, ok, redirect, self_signed};
use tandem::http::{CertificateProblem, Client, ClientBuilder, Error, Response, TimeoutKind};

/// A client that gives up after a few seconds, trusting `ca`.
fn trusting(ca: &TestCa) -> ClientBuilder {
    Client::builder()
        .total_timeout(Duration::from_secs(10))
        .add_root_certificate(ca.pem().as_bytes())
        .expect("the test CA's PEM is valid")
}

fn get(client: &Client, url: &str) -> Result<Response, Error> {
    tandem::block_on(client.get(url))
}

/// A server for 127.0.0.1 signed by `ca`, answering `body` everywhere.
fn server_of(ca: &TestCa, body: &'static [u8]) -> TlsServer {
    TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |_| ok(body))
}

#[track_caller]
fn assert_refused(result: Result<Response, Error>, expected: CertificateProblem) {
    match result {
        Err(Error::Certificate { host, problem }) => {
            assert_eq!(problem, expected);
            assert_eq!(host, "127.0.0.1");
        }
        other => panic!("expected a refused certificate ({expected:?}), got {other:?}"),
    }
}

#[test]
fn a_get_over_https() {
    let ca = TestCa::new();
    let server = server_of(&ca, b"hello over tls");
    let client = trusting(&ca).build();
    let response = get(&client, &server.url("/greeting")).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), b"hello over tls");
    assert_eq!(response.url().to_string(), server.url("/greeting"));
    // ureq keeps no reason phrase: the standard one, as documented.
    assert_eq!(response.reason(), "OK");
}

#[test]
fn a_large_chunked_body_over_https() {
    let ca = TestCa::new();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = body.clone();
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |_| chunked_ok(&body, 7_777));
    let client = trusting(&ca).build();
    let response = get(&client, &server.url("/big")).unwrap();
    assert_eq!(response.body().len(), expected.len());
    assert!(response.body() == expected.as_slice());
}

#[test]
fn connections_are_kept_alive_over_https() {
    let ca = TestCa::new();
    let server = server_of(&ca, b"again");
    let client = trusting(&ca).build();
    tandem::block_on(async {
        for _ in 0..5 {
            assert_eq!(client.get(&server.url("/")).await.unwrap().body(), b"again");
        }
    });
    assert_eq!(server.accepted(), 1);
}

#[test]
fn a_certificate_from_an_unknown_authority_is_refused_by_default() {
    let ca = TestCa::new();
    let server = server_of(&ca, b"secret");
    let client = Client::builder()
        .total_timeout(Duration::from_secs(10))
        .build();
    let result = get(&client, &server.url("/"));
    assert_refused(result, CertificateProblem::UntrustedIssuer);
}

#[test]
fn a_self_signed_certificate_is_refused_then_accepted_once_trusted() {
    let identity = self_signed(&["127.0.0.1"]);
    let server = TlsServer::start(&identity, |_| ok(b"mine"));
    let default = Client::builder()
        .total_timeout(Duration::from_secs(10))
        .build();
    let error = get(&default, &server.url("/")).unwrap_err();
    assert!(
        error.to_string().contains("not signed by a trusted root"),
        "{error}"
    );
    assert_refused(Err(error), CertificateProblem::UntrustedIssuer);
    let trusting = Client::builder()
        .total_timeout(Duration::from_secs(10))
        .add_root_certificate(identity.pem.as_bytes())
        .unwrap()
        .build();
    assert_eq!(get(&trusting, &server.url("/")).unwrap().body(), b"mine");
}

#[test]
fn a_private_root_among_others_in_one_file_is_trusted() {
    let (ca, other) = (TestCa::new(), TestCa::new());
    let server = server_of(&ca, b"bundle");
    let bundle = format!("{}{}", other.pem(), ca.pem());
    let client = Client::builder()
        .total_timeout(Duration::from_secs(10))
        .add_root_certificate(bundle.as_bytes())
        .unwrap()
        .build();
    assert_eq!(get(&client, &server.url("/")).unwrap().body(), b"bundle");
}

#[test]
fn given_roots_replace_the_built_in_ones() {
    // Trusting another private root does not make this one trusted.
    let (ca, other) = (TestCa::new(), TestCa::new());
    let server = server_of(&ca, b"x");
    let client = trusting(&other).build();
    assert_refused(
        get(&client, &server.url("/")),
        CertificateProblem::UntrustedIssuer,
    );
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let ca = TestCa::new();
    let server = TlsServer::start(&ca.leaf(&["images.example.test"]), |_| ok(b"x"));
    let client = trusting(&ca).build();
    assert_refused(
        get(&client, &server.url("/")),
        CertificateProblem::WrongHost,
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let ca = TestCa::new();
    let server = TlsServer::start(&ca.expired_leaf(&["127.0.0.1"]), |_| ok(b"x"));
    let client = trusting(&ca).build();
    assert_refused(get(&client, &server.url("/")), CertificateProblem::Expired);
}

#[test]
fn bad_root_certificates_are_refused_when_the_client_is_built() {
    for pem in [
        &b""[..],
        b"not a certificate",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        match Client::builder().add_root_certificate(pem) {
            Err(Error::RootCertificate { .. }) => {}
            other => panic!("{pem:?}: expected RootCertificate, got {other:?}"),
        }
    }
}

#[test]
fn a_handshake_that_never_comes_is_bounded_by_the_timeouts() {
    let server = TlsServer::stalling();
    let client = Client::builder()
        .connect_timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_millis(800))
        .build();
    match get(&client, &server.url("/")) {
        Err(Error::Timeout {
            kind: TimeoutKind::Connect | TimeoutKind::Total,
            ..
        }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(server.accepted(), 1);
}

#[test]
fn redirects_from_http_to_https_and_back_are_followed() {
    let ca = TestCa::new();
    // http://plain/start -> https://tls/middle -> http://plain/end
    let end = HostileServer::once(respond(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend".to_vec(),
    ));
    let end_url = end.url("/end");
    let tls = TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |_| redirect(&end_url));
    let start = HostileServer::once(respond(redirect(&tls.url("/middle"))));
    let client = trusting(&ca).build();
    let response = get(&client, &start.url("/start")).unwrap();
    assert_eq!(response.body(), b"end");
    assert_eq!(response.url().to_string(), end.url("/end"));

    // The same chain with room for one redirect only.
    let end = HostileServer::once(respond(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend".to_vec(),
    ));
    let end_url = end.url("/end");
    let tls = TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |_| redirect(&end_url));
    let start = HostileServer::once(respond(redirect(&tls.url("/middle"))));
    let client = trusting(&ca).max_redirects(1).build();
    assert!(matches!(
        get(&client, &start.url("/start")),
        Err(Error::TooManyRedirects { limit: 1 })
    ));
}

#[test]
fn a_body_over_the_limit_is_refused_over_https_as_over_http() {
    let ca = TestCa::new();
    let body = vec![b'x'; 100_000];
    let chunked_body = body.clone();
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"]), move |path| {
        if path == "/chunked" {
            chunked_ok(&chunked_body, 4096)
        } else {
            ok(&body)
        }
    });
    let client = trusting(&ca).max_body_bytes(10_000).build();
    for path in ["/length", "/chunked"] {
        assert!(
            matches!(
                get(&client, &server.url(path)),
                Err(Error::BodyTooLarge { limit: 10_000 })
            ),
            "{path}"
        );
    }
}
