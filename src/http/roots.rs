//! Private roots: the certificate authorities an https client trusts when
//! the built-in ones are not the right ones (feature `tls`).
//!
//! # Why
//!
//! By default https trusts Mozilla's root certificates (through ureq's
//! `webpki-roots`), which is right on the open internet and wrong behind a
//! company proxy that re-signs traffic, or for a service with its own
//! certificate authority. There, the user has the authority's certificate
//! as a PEM file and needs tandem to trust it:
//! [`ClientBuilder::add_root_certificate`](super::ClientBuilder::add_root_certificate),
//! and `tandem --cacert FILE` on the command line.
//!
//! # How
//!
//! [`parse`] reads every `CERTIFICATE` block of a PEM text (other blocks,
//! such as keys, are skipped) and checks that each is an X.509 certificate
//! rustls can use as a trust anchor, so that a wrong file is an
//! [`Error::RootCertificate`] when the client is built, not a puzzling
//! handshake failure later. Once any root is given, the given roots
//! *replace* the built-in ones, as `curl --cacert` does: ureq's TLS
//! settings take one set of roots, and a private deployment usually wants
//! exactly its own.

use ureq::tls::{Certificate, PemItem, RootCerts, parse_pem};

use super::Error;

/// The certificates of `pem`: one or more, each a valid X.509 certificate.
pub(crate) fn parse(pem: &[u8]) -> Result<Vec<Certificate<'static>>, Error> {
    let bad = |reason: String| Error::RootCertificate { reason };
    let mut certificates = Vec::new();
    for item in parse_pem(pem) {
        match item.map_err(|error| bad(format!("not valid PEM: {error}")))? {
            PemItem::Certificate(certificate) => certificates.push(certificate),
            _ => continue,
        }
    }
    if certificates.is_empty() {
        return Err(bad("no CERTIFICATE block in the PEM text".to_string()));
    }
    let mut store = rustls::RootCertStore::empty();
    for certificate in &certificates {
        let der = rustls::pki_types::CertificateDer::from(certificate.der());
        store
            .add(der)
            .map_err(|error| bad(format!("not a usable X.509 certificate: {error}")))?;
    }
    Ok(certificates)
}

/// ureq's root setting: the given roots, or the built-in ones if none.
pub(crate) fn root_certs(given: &[Certificate<'static>]) -> RootCerts {
    if given.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_is_refused() {
        for text in [
            &b""[..],
            b"hello",
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(
                matches!(parse(text), Err(Error::RootCertificate { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_certificate_block_of_garbage_is_refused() {
        let garbage = b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        match parse(garbage) {
            Err(Error::RootCertificate { reason }) => {
                assert!(reason.starts_with("not a usable X.509"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_roots_means_the_built_in_ones() {
        assert!(matches!(root_certs(&[]), RootCerts::WebPki));
    }
}
