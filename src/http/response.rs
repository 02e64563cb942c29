//! The response the caller gets: status, headers, the whole body, final URL.
//!
//! # Why
//!
//! tandem's pipeline hands each downloaded body to a CPU pool job, which
//! needs all of it at once, so the body is read to the end (within the
//! client's limit) before the response is returned. A `Response` is then a
//! plain value: it can be moved into a `CpuPool::run` closure, and it no
//! longer ties up a connection.
//!
//! A status such as 404 or 500 is a response, not an [`Error`]: the server
//! answered. [`Response::is_success`] tells 2xx apart.
//!
//! [`Error`]: super::Error

use std::borrow::Cow;

use super::parse::{ResponseHead, Version};
use super::{Headers, Url};

/// A complete response.
///
/// ```no_run
/// # tandem::block_on(async {
/// let response = tandem::http::get("http://127.0.0.1:8080/").await?;
/// println!("{} {} from {}", response.status(), response.text(), response.url());
/// # Ok::<(), tandem::http::Error>(())
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    head: ResponseHead,
    body: Vec<u8>,
    url: Url,
}

impl Response {
    /// A response with `head` and `body`, fetched from `url`.
    pub(crate) fn new(head: ResponseHead, body: Vec<u8>, url: Url) -> Response {
        Response { head, body, url }
    }

    /// The status code: 200, 404...
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.head.status)
    }

    /// The reason phrase (`OK`, `Not Found`), possibly empty. Over
    /// https it is not the server's (ureq does not keep it) but the
    /// standard phrase of the status code, or empty for a code without one.
    pub fn reason(&self) -> &str {
        &self.head.reason
    }

    /// HTTP/1.0 or HTTP/1.1.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// Every header field.
    pub fn headers(&self) -> &Headers {
        &self.head.headers
    }

    /// The value of the first header field called `name`, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name)
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, without copying it.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The body as text; bytes that are not UTF-8 become U+FFFD. No charset
    /// other than UTF-8 (and so ASCII) is decoded.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The URL that gave this response: the requested one, or where the
    /// redirects led.
    pub fn url(&self) -> &Url {
        &self.url
    }
}
