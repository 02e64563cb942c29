//! The task `tandem.resize`: its arguments, its work, its result; the same
//! contract as the Pillow version in `contrib/celery/tandem_tasks.py`, so
//! either kind of worker can serve either kind of client.
//!
//! ```text
//!  args    [url]
//!  kwargs  {"width": 128, "height": 128, "fit": false}   (each optional)
//!  work    download url; resize; SETEX tandem:png:<task id> <expires> PNG
//!  returns {"key": "tandem:png:<task id>", "width": W, "height": H,
//!           "bytes": N, "url": url, "source_width": w, "source_height": h,
//!           "downloaded_bytes": D}
//! ```
//!
//! `bytes` is the PNG's length; `downloaded_bytes` the length of the body
//! the worker downloaded from `url`, which `tandem --broker` reports as a
//! local run would. Workers older than that field leave it out: their
//! result is still a success, and `tandem --broker` reports 0 downloaded
//! bytes for it, as it did for every input before.
//!
//! The PNG goes to its own key rather than into the result, so that the
//! result stays small JSON (Celery's backend has a size limit) and the
//! bytes are written once, binary, not base64.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::RemoteError;
use super::message::Call;
use crate::http;
use crate::pipeline::ItemError;
use crate::redis::{self, Client};
use crate::resize::{self, Fit, Processed, Settings};

/// The task's registered name.
pub const NAME: &str = "tandem.resize";

/// Where task `id`'s PNG is stored.
pub fn png_key(id: &str) -> String {
    format!("tandem:png:{id}")
}

/// What `tandem.resize` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The image to download.
    pub url: String,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Fit inside the box, keeping the aspect ratio, instead of stretching.
    pub fit: bool,
}

impl Request {
    /// The call as a `tandem.resize` request with an id to answer to:
    /// `NotRegistered` for another task, as Celery's workers answer.
    pub fn checked(call: &Call, id: Option<&str>) -> Result<Request, RemoteError> {
        if call.task != NAME {
            return Err(RemoteError {
                exc_type: "NotRegistered".into(),
                exc_module: Some("celery.exceptions".into()),
                message: call.task.clone(),
            });
        }
        if id.is_none() {
            return Err(RemoteError::tandem(
                "BadMessage",
                "no task id: nowhere to put the result",
            ));
        }
        Request::from_call(&call.args, &call.kwargs)
    }

    /// Reads the call's arguments; a clear `InvalidArguments` otherwise.
    pub fn from_call(args: &[Value], kwargs: &Map<String, Value>) -> Result<Request, RemoteError> {
        let bad = |why: String| RemoteError::tandem("InvalidArguments", why);
        let url = match args {
            [Value::String(url)] => url.clone(),
            _ => {
                return Err(bad(format!(
                    "args must be [url], not {}",
                    Value::from(args.to_vec())
                )));
            }
        };
        let side = |name: &str| match kwargs.get(name) {
            None | Some(Value::Null) => Ok(128),
            Some(value) => value
                .as_u64()
                .and_then(|side| u32::try_from(side).ok())
                .filter(|&side| side > 0)
                .ok_or_else(|| bad(format!("{name} must be a whole number ≥ 1, not {value}"))),
        };
        let fit = match kwargs.get("fit") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(fit)) => *fit,
            Some(other) => return Err(bad(format!("fit must be true or false, not {other}"))),
        };
        Ok(Request {
            url,
            width: side("width")?,
            height: side("height")?,
            fit,
        })
    }

    /// The call's `(args, kwargs)`.
    pub fn to_call(&self) -> (Value, Value) {
        let kwargs = json!({"width": self.width, "height": self.height, "fit": self.fit});
        (json!([self.url]), kwargs)
    }

    /// The resize settings it asks for, starting from `base` (its limits).
    pub fn settings(&self, base: &Settings) -> Settings {
        let mut settings = base.clone();
        (settings.width, settings.height) = (self.width, self.height);
        settings.fit = if self.fit { Fit::Contain } else { Fit::Exact };
        settings
    }
}

/// What `tandem.resize` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Where the PNG is: `tandem:png:<task id>`.
    pub key: String,
    /// The PNG's size.
    pub width: u32,
    /// The PNG's size.
    pub height: u32,
    /// The PNG's length.
    pub bytes: usize,
    /// The source image's size, when the worker said.
    pub source: Option<(u32, u32)>,
    /// The length of the downloaded body, when the worker said (workers
    /// older than the field do not).
    pub downloaded_bytes: Option<usize>,
}

impl Answer {
    /// The task's return value, for `url`.
    pub fn to_json(&self, url: &str) -> Value {
        let mut value = json!({"key": self.key, "width": self.width, "height": self.height,
                               "bytes": self.bytes, "url": url});
        if let Some((width, height)) = self.source {
            value["source_width"] = json!(width);
            value["source_height"] = json!(height);
        }
        if let Some(downloaded) = self.downloaded_bytes {
            value["downloaded_bytes"] = json!(downloaded);
        }
        value
    }

    /// Reads a return value; `None` if it lacks a required field. The
    /// source's size and `downloaded_bytes` are optional: without them
    /// (an older worker) they are `None`, not a failure.
    pub fn from_json(value: &Value) -> Option<Answer> {
        let number = |name| value.get(name).and_then(Value::as_u64);
        let side = |name| number(name).and_then(|n| u32::try_from(n).ok());
        Some(Answer {
            key: value.get("key")?.as_str()?.to_string(),
            width: side("width")?,
            height: side("height")?,
            bytes: usize::try_from(number("bytes")?).ok()?,
            source: side("source_width").zip(side("source_height")),
            downloaded_bytes: number("downloaded_bytes").and_then(|n| usize::try_from(n).ok()),
        })
    }
}

/// Runs the task: downloads on the loop, resizes on `pool`, stores the PNG
/// for `expires`. Every failure of the task is a [`RemoteError`] naming
/// its cause; a failure to store the PNG is the broker's, not the task's
/// (the outer `Err`): the job is then left unacknowledged, to be done again.
pub async fn run(
    id: &str,
    request: &Request,
    http: &http::Client,
    pool: &crate::CpuPool,
    base: &Settings,
    redis: &Client,
    expires: Duration,
) -> Result<Result<Answer, RemoteError>, redis::Error> {
    let (downloaded, processed) = match resized(request, http, pool, base).await {
        Ok(resized) => resized,
        Err(err) => return Ok(Err(err)),
    };
    let key = png_key(id);
    let seconds = expires.as_secs().max(1).to_string();
    let stored = redis
        .command(&[b"SETEX", key.as_bytes(), seconds.as_bytes(), &processed.png])
        .await;
    stored?;
    Ok(Ok(Answer {
        key,
        width: processed.output_size.0,
        height: processed.output_size.1,
        bytes: processed.png.len(),
        source: Some(processed.source_size),
        downloaded_bytes: Some(downloaded),
    }))
}

/// Downloads on the loop and resizes on the pool; the body's length, and
/// the image.
async fn resized(
    request: &Request,
    http: &http::Client,
    pool: &crate::CpuPool,
    base: &Settings,
) -> Result<(usize, Processed), RemoteError> {
    let response = http.get(&request.url).await;
    let response = response.map_err(|err| failure(&ItemError::Download(err)))?;
    if !response.is_success() {
        return Err(failure(&ItemError::HttpStatus(response.status())));
    }
    let body = response.into_body();
    let downloaded = body.len();
    let settings = request.settings(base);
    match pool.run(move || resize::process(&body, &settings)).await {
        Ok(Ok(processed)) => Ok((downloaded, processed)),
        Ok(Err(err)) => Err(failure(&ItemError::Image(err))),
        Err(err) => Err(failure(&ItemError::Job(err))),
    }
}

/// A pipeline stage's error as the exception a Python caller sees: the
/// type names the stage, the message is tandem's own.
pub fn failure(error: &ItemError) -> RemoteError {
    let exc_type = match error {
        ItemError::Download(_) => "DownloadError",
        ItemError::HttpStatus(_) => "HttpStatusError",
        ItemError::Image(_) => "ImageError",
        ItemError::Job(_) => "JobError",
        ItemError::Save(_) => "SaveError",
        ItemError::Remote(_) => "RemoteError",
    };
    RemoteError::tandem(exc_type, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_have_the_articles_defaults() {
        let request = Request::from_call(&[json!("http://x/a.png")], &Map::new()).unwrap();
        assert_eq!(
            (request.width, request.height, request.fit),
            (128, 128, false)
        );
        let (args, kwargs) = request.to_call();
        let kwargs = kwargs.as_object().unwrap().clone();
        assert_eq!(
            Request::from_call(args.as_array().unwrap(), &kwargs).unwrap(),
            request
        );
    }

    #[test]
    fn bad_arguments_are_named() {
        let kwargs = |value: Value| value.as_object().unwrap().clone();
        for (args, kw, why) in [
            (vec![], json!({}), "args must be [url]"),
            (vec![json!(1)], json!({}), "args must be [url]"),
            (vec![json!("u")], json!({"width": 0}), "width must be"),
            (vec![json!("u")], json!({"height": "big"}), "height must be"),
            (vec![json!("u")], json!({"fit": 1}), "fit must be"),
        ] {
            let error = Request::from_call(&args, &kwargs(kw)).unwrap_err();
            assert_eq!(error.exc_type, "InvalidArguments");
            assert!(error.message.contains(why), "{error}");
        }
    }

    #[test]
    fn answers_round_trip() {
        let answer = Answer {
            key: png_key("i"),
            width: 3,
            height: 2,
            bytes: 99,
            source: Some((30, 20)),
            downloaded_bytes: Some(1234),
        };
        let value = answer.to_json("http://x/");
        assert_eq!(value["url"], "http://x/");
        assert_eq!(value["downloaded_bytes"], 1234);
        assert_eq!(Answer::from_json(&value), Some(answer));
    }

    #[test]
    fn an_older_workers_answer_is_read_without_its_download() {
        // What workers wrote before `downloaded_bytes`.
        let value = json!({"key": "tandem:png:i", "width": 3, "height": 2,
                           "bytes": 99, "url": "http://x/",
                           "source_width": 30, "source_height": 20});
        let answer = Answer::from_json(&value).unwrap();
        assert_eq!((answer.bytes, answer.downloaded_bytes), (99, None));
    }
}
