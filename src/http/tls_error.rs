//! ureq's errors, as tandem's: above all, a refused certificate as a typed
//! [`Error::Certificate`] (feature `tls`).
//!
//! # Why
//!
//! "The certificate was refused" is something a user must act on (trust a
//! private root, fix a host name, renew a certificate), and a program must
//! be able to tell it from a network failure without reading English. ureq
//! hands over a failed handshake as an `io::Error` whose inner error is
//! rustls' own [`rustls::Error`]; so the mapping looks inside it *by type*
//! (`downcast_ref`), never at the words of a message, and names the
//! problem with a [`CertificateProblem`].
//!
//! # How
//!
//! | rustls says (`CertificateError`)        | [`CertificateProblem`] |
//! |------------------------------------------|------------------------|
//! | `UnknownIssuer`                          | `UntrustedIssuer`      |
//! | `NotValidForName`, `...Context`          | `WrongHost`            |
//! | `Expired`, `NotValidYet`, `...Context`   | `Expired`              |
//! | anything else                            | `Invalid`              |
//!
//! The other ureq errors map to the variant the plain-TCP path would give
//! for the same fault (a timeout, a body over the limit), so that a caller
//! matches one set of variants whatever the scheme.

use std::io;

use rustls::CertificateError;

use super::error::{CertificateProblem, TimeoutKind};
use super::settings::ClientSettings;
use super::{Error, Url};

/// ureq's error, as the closest tandem error.
pub(crate) fn from_ureq(error: ureq::Error, url: &Url, settings: &ClientSettings) -> Error {
    match error {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => Error::Timeout {
            kind: TimeoutKind::Connect,
            after: settings.connect_timeout,
        },
        ureq::Error::Timeout(_) => Error::Timeout {
            kind: TimeoutKind::Total,
            after: settings.total_timeout,
        },
        ureq::Error::HostNotFound => Error::Dns {
            host: url.host().to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "host not found"),
        },
        ureq::Error::BodyExceedsLimit(_) => Error::BodyTooLarge {
            limit: settings.limits.max_body_bytes,
        },
        ureq::Error::LargeResponseHeader(..) => Error::HeadersTooLarge {
            limit: settings.limits.head.max_bytes,
        },
        ureq::Error::Rustls(error) => {
            from_rustls(&error, url).unwrap_or(Error::Tls(error.to_string()))
        }
        ureq::Error::Io(error) => {
            let inner = error.get_ref().and_then(|inner| inner.downcast_ref());
            match inner.and_then(|rustls_error| from_rustls(rustls_error, url)) {
                Some(refused) => refused,
                None => Error::Io(error),
            }
        }
        other => Error::Tls(other.to_string()),
    }
}

/// [`Error::Certificate`] if rustls refused the server's certificate.
fn from_rustls(error: &rustls::Error, url: &Url) -> Option<Error> {
    let rustls::Error::InvalidCertificate(problem) = error else {
        return None;
    };
    let problem = match problem {
        CertificateError::UnknownIssuer => CertificateProblem::UntrustedIssuer,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::WrongHost
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => CertificateProblem::Expired,
        _ => CertificateProblem::Invalid,
    };
    Some(Error::Certificate {
        host: url.host().to_string(),
        problem,
    })
}
