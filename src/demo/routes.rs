//! Routing: from a parsed request to the response the demo server sends.
//!
//! # Why
//!
//! Each route exists to exercise one thing a client must get right: JSON
//! to parse (`/get`), a large body (`/bytes`), chunked framing (`/chunked`),
//! CPU-heavy payloads (`/image`), error statuses (`/status`), slow answers
//! for timeouts (`/delay`), redirects absolute and relative (`/redirect`,
//! `/relative-redirect`), and prose to analyse (`/text`, `/html`). The table
//! of routes is in the [module documentation](super).
//!
//! # How
//!
//! [`Routes::respond`] splits the path into a route name and an argument
//! and dispatches on the pair. Handlers return `Result<Reply,
//! Rejection>`, so a bad parameter is a `?` away from its `400`. Every number
//! taken from a request is checked against a cap before it is used: a
//! client can't make the server allocate, sleep or redirect without bound.

use std::fmt::Write as _;
use std::time::Duration;

use super::rejection::Rejection;
use super::reply::{Reply, reason};
use super::request::Request;
use crate::json;

/// The largest `/bytes/N` and `/chunked/N`.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The longest `/delay/MS`, in milliseconds.
const MAX_DELAY_MS: u64 = 60_000;

/// The longest `/redirect/N` chain.
const MAX_REDIRECTS: u64 = 100;

/// The most repetitions of the `/text` and `/html` prose.
const MAX_REPEAT: u64 = 1000;

/// What the routes need besides the request: where the server is, and
/// (with the `image` feature) its pictures.
pub(crate) struct Routes {
    /// `http://127.0.0.1:PORT`, for absolute URLs.
    origin: String,
    #[cfg(feature = "image")]
    images: super::images::ImageStore,
}

impl Routes {
    /// The routes of the server reachable at `origin`.
    #[cfg(feature = "image")]
    pub(crate) fn new(origin: String) -> std::io::Result<Routes> {
        Ok(Routes {
            origin,
            images: super::images::ImageStore::new()?,
        })
    }

    /// The routes of the server reachable at `origin`.
    #[cfg(not(feature = "image"))]
    pub(crate) fn new(origin: String) -> std::io::Result<Routes> {
        Ok(Routes { origin })
    }

    /// The response to `request`.
    pub(crate) async fn respond(&self, request: &Request) -> Reply {
        if !matches!(request.method(), "GET" | "HEAD") {
            let refused = Rejection::new(405, "the demo server answers GET and HEAD only");
            return Reply::from(refused).with_header("Allow", "GET, HEAD");
        }
        let route = request.path().strip_prefix('/').unwrap_or_default();
        let outcome =
            match route.split_once('/') {
                None => match route {
                    "get" => Ok(self.describe(request)),
                    "text" => prose(request, false),
                    "html" => prose(request, true),
                    _ => Err(not_found()),
                },
                Some(("bytes", len)) => number(len, "the byte count", 0..=MAX_BYTES)
                    .map(|len| Reply::pattern(len, false)),
                Some(("chunked", len)) => number(len, "the byte count", 0..=MAX_BYTES)
                    .map(|len| Reply::pattern(len, true)),
                Some(("image", format)) => self.image(format, request).await,
                Some(("status", code)) => status(code),
                Some(("delay", ms)) => self.delay(ms, request).await,
                Some(("redirect", hops)) => self.redirect(hops, true),
                Some(("relative-redirect", hops)) => self.redirect(hops, false),
                Some(_) => Err(not_found()),
            };
        outcome.unwrap_or_else(Reply::from)
    }

    /// `/get`: the request, described in JSON.
    fn describe(&self, request: &Request) -> Reply {
        let mut json = String::from("{\n");
        let _ = writeln!(json, "  \"method\": {},", json::string(request.method()));
        let _ = writeln!(json, "  \"path\": {},", json::string(request.path()));
        let _ = writeln!(
            json,
            "  \"args\": {},",
            json_object(request.query_pairs(), "  ")
        );
        let headers = json_object(request.headers().iter(), "  ");
        let _ = writeln!(json, "  \"headers\": {headers},");
        let _ = writeln!(
            json,
            "  \"url\": {}",
            json::string(&format!("{}{}", self.origin, request.target()))
        );
        json.push_str("}\n");
        Reply::new(200, "application/json", json.into_bytes())
    }

    /// `/delay/MS`: `/get`'s answer, late. The timer is the reactor's: the
    /// waiting costs no thread.
    async fn delay(&self, ms: &str, request: &Request) -> Result<Reply, Rejection> {
        let ms = number(ms, "the delay in milliseconds", 0..=MAX_DELAY_MS)?;
        async_io::Timer::after(Duration::from_millis(ms)).await;
        Ok(self.describe(request))
    }

    /// `/redirect/N` (absolute `Location`) and `/relative-redirect/N`
    /// (relative): a chain of `N` redirects that ends at `/get`.
    fn redirect(&self, hops: &str, absolute: bool) -> Result<Reply, Rejection> {
        let hops = number(hops, "the redirect count", 1..=MAX_REDIRECTS)?;
        let (origin, route) = if absolute {
            (self.origin.as_str(), "redirect")
        } else {
            ("", "relative-redirect")
        };
        let location = match hops {
            1 => format!("{origin}/get"),
            _ => format!("{origin}/{route}/{}", hops - 1),
        };
        Ok(Reply::text(302, format!("redirecting to {location}\n"))
            .with_header("Location", location))
    }

    /// `/image/png` and `/image/jpeg`: a generated picture, from the cache
    /// or painted on the server's CPU pool; `?delay=MS` answers MS
    /// milliseconds late, like a slow network.
    #[cfg(feature = "image")]
    async fn image(&self, format: &str, request: &Request) -> Result<Reply, Rejection> {
        use super::images::{DEFAULT_SIZE, ImageFormat, ImageSpec, MAX_SIDE};

        let format = ImageFormat::from_name(format).ok_or_else(not_found)?;
        let side = |name, default| -> Result<u32, Rejection> {
            let side = query_number(request, name, u64::from(default), 1..=u64::from(MAX_SIDE))?;
            Ok(u32::try_from(side).expect("MAX_SIDE fits in u32"))
        };
        let spec = ImageSpec {
            format,
            width: side("w", DEFAULT_SIZE.0)?,
            height: side("h", DEFAULT_SIZE.1)?,
            seed: query_number(request, "seed", 0, 0..=u64::MAX)?,
        };
        // `delay=MS` stands for a slow network: the answer leaves late.
        let delay = query_number(request, "delay", 0, 0..=MAX_DELAY_MS)?;
        let bytes =
            self.images.fetch(spec).await.map_err(|err| {
                Rejection::new(500, format!("the picture could not be made: {err}"))
            })?;
        async_io::Timer::after(Duration::from_millis(delay)).await;
        Ok(Reply::new(200, format.content_type(), bytes))
    }

    /// Without the `image` feature there is nothing to make pictures with.
    #[cfg(not(feature = "image"))]
    async fn image(&self, format: &str, _request: &Request) -> Result<Reply, Rejection> {
        match format {
            "png" | "jpeg" => Err(Rejection::new(
                501,
                "this build of tandem has no `image` feature: rebuild with `--features image` to serve pictures",
            )),
            _ => Err(not_found()),
        }
    }
}

/// `/status/CODE`: that status, with its reason as the body.
fn status(code: &str) -> Result<Reply, Rejection> {
    let code = number(code, "the status code", 200..=599)?;
    let code = u16::try_from(code).expect("at most 599");
    Ok(Reply::text(code, format!("{code} {}\n", reason(code))))
}

/// `/text` and `/html`: the opening of *Alice's Adventures in Wonderland*,
/// `?repeat=N` times.
fn prose(request: &Request, html: bool) -> Result<Reply, Rejection> {
    let repeat = query_number(request, "repeat", 1, 1..=MAX_REPEAT)?;
    let paragraphs = || (0..repeat).flat_map(|_| ALICE.iter());
    if !html {
        let text: String = paragraphs()
            .map(|paragraph| format!("{paragraph}\n\n"))
            .collect();
        return Ok(Reply::text(200, text));
    }
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Down the Rabbit-Hole</title></head>\n<body>\n<h1>Down the Rabbit-Hole</h1>\n",
    );
    for paragraph in paragraphs() {
        let _ = writeln!(page, "<p>{}</p>", html_escape(paragraph));
    }
    page.push_str(
        "<p>See also: <a href=\"/text\">the plain text</a>, <a href=\"/get\">your request</a>, <a href=\"/image/jpeg\">a picture</a>.</p>\n</body>\n</html>\n",
    );
    Ok(Reply::new(
        200,
        "text/html; charset=utf-8",
        page.into_bytes(),
    ))
}

/// Lewis Carroll, 1865 (public domain).
const ALICE: [&str; 3] = [
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: \
     once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations \
     in it, \"and what is the use of a book,\" thought Alice \"without pictures or conversations?\"",
    "So she was considering in her own mind (as well as she could, for the hot day made her feel very sleepy and \
     stupid), whether the pleasure of making a daisy-chain would be worth the trouble of getting up and picking \
     the daisies, when suddenly a White Rabbit with pink eyes ran close by her.",
    "There was nothing so very remarkable in that; nor did Alice think it so very much out of the way to hear the \
     Rabbit say to itself, \"Oh dear! Oh dear! I shall be late!\" (when she thought it over afterwards, it \
     occurred to her that she ought to have wondered at this, but at the time it all seemed quite natural); but \
     when the Rabbit actually took a watch out of its waistcoat-pocket, and looked at it, and then hurried on, \
     Alice started to her feet, for it flashed across her mind that she had never before seen a rabbit with \
     either a waistcoat-pocket, or a watch to take out of it, and burning with curiosity, she ran across the \
     field after it, and fortunately was just in time to see it pop down a large rabbit-hole under the hedge.",
];

fn not_found() -> Rejection {
    Rejection::new(404, "no such route; see the tandem::demo documentation")
}

/// Parses the decimal `text` as `what`, which must lie in `allowed`.
fn number(
    text: &str,
    what: &str,
    allowed: std::ops::RangeInclusive<u64>,
) -> Result<u64, Rejection> {
    let value: u64 = text.parse().map_err(|_| {
        Rejection::bad_request(format!("{what} must be a decimal number, not {text:?}"))
    })?;
    if !allowed.contains(&value) {
        return Err(Rejection::bad_request(format!(
            "{what} must be from {} to {}, not {value}",
            allowed.start(),
            allowed.end()
        )));
    }
    Ok(value)
}

/// The query parameter `name` as a number in `allowed`, or `default`.
fn query_number(
    request: &Request,
    name: &str,
    default: u64,
    allowed: std::ops::RangeInclusive<u64>,
) -> Result<u64, Rejection> {
    match request.query_param(name) {
        Some(text) => number(text, &format!("the query parameter `{name}`"), allowed),
        None => Ok(default),
    }
}

/// `pairs` as a JSON object, one member a line, closed at `indent`.
fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, indent: &str) -> String {
    let members: Vec<String> = pairs
        .map(|(key, value)| format!("{indent}  {}: {}", json::string(key), json::string(value)))
        .collect();
    if members.is_empty() {
        return "{}".to_string();
    }
    format!("{{\n{}\n{indent}}}", members.join(",\n"))
}

/// `text` with the characters that mean something in HTML escaped.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_against_their_caps() {
        assert_eq!(number("42", "n", 0..=100), Ok(42));
        assert_eq!(number("101", "n", 0..=100).unwrap_err().status, 400);
        assert_eq!(number("-1", "n", 0..=100).unwrap_err().status, 400);
        assert_eq!(number("", "n", 0..=100).unwrap_err().status, 400);
    }
}
