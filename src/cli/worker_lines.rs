//! What `tandem worker` prints: a line per job on stderr, or with `--json`
//! one JSON object per job on stdout; broker trouble always on stderr.

use serde_json::json;
use tandem::celery::{Job, RemoteError, WorkerEvent};

use super::summary::printable;

/// The line for `event`, and whether it goes to stdout (`--json` jobs).
pub fn line(event: &WorkerEvent, json: bool) -> (String, bool) {
    match event {
        WorkerEvent::Done(job) if json => (job_json(job), true),
        WorkerEvent::Done(job) => (job_human(job), false),
        WorkerEvent::Ready => ("tandem worker: ready".to_string(), false),
        WorkerEvent::Dropped(err) => (format!("tandem worker: dropped a message: {err}"), false),
        WorkerEvent::Broker(err) => (format!("tandem worker: {err} (retrying)"), false),
        WorkerEvent::Restored(count) => (
            format!(
                "tandem worker: {count} unacknowledged job(s) past the visibility timeout put back on their queue"
            ),
            false,
        ),
        WorkerEvent::Scheduled { task_id, eta } => (
            format!(
                "tandem worker: {} scheduled: held until its eta {}",
                task_id.as_deref().unwrap_or("(no id)"),
                printable(eta)
            ),
            false,
        ),
        WorkerEvent::GivenBack(task_id) => (
            format!(
                "tandem worker: {} given back to its queue before its eta",
                task_id.as_deref().unwrap_or("(no id)")
            ),
            false,
        ),
        WorkerEvent::Stopping => (
            "tandem worker: stopping: finishing the jobs in flight, giving back those waiting for their eta (a second signal exits now)"
                .to_string(),
            false,
        ),
    }
}

fn job_human(job: &Job) -> String {
    let id = job.task_id.as_deref().unwrap_or("(no id)");
    let ms = job.elapsed.as_secs_f64() * 1000.0;
    let again = if job.redelivered {
        " (redelivered)"
    } else {
        ""
    };
    let url = printable(job.url.as_deref().unwrap_or("")).into_owned();
    match &job.result {
        Ok(answer) => {
            let from = answer
                .downloaded_bytes
                .map(|bytes| format!(" (from {bytes} B)"));
            format!(
                "tandem worker: {id} ok {}x{} {} B{} in {ms:.1} ms{again} {url}",
                answer.width,
                answer.height,
                answer.bytes,
                from.unwrap_or_default()
            )
        }
        // `celery control revoke`: discarded, not failed.
        Err(err) if *err == RemoteError::revoked() => {
            format!("tandem worker: {id} REVOKED: not run{again} {url}")
        }
        // Taken past its `expires`: discarded (stored REVOKED), not failed.
        Err(err) if *err == RemoteError::expired() => {
            format!("tandem worker: {id} EXPIRED: not run{again} {url}")
        }
        Err(err) => {
            let why = printable(&err.to_string()).into_owned();
            format!("tandem worker: {id} FAILED in {ms:.1} ms{again}: {why} {url}")
        }
    }
}

fn job_json(job: &Job) -> String {
    let mut line = json!({
        "task_id": job.task_id,
        "url": job.url,
        "ok": job.result.is_ok(),
        "ms": job.elapsed.as_secs_f64() * 1000.0,
        "redelivered": job.redelivered,
    });
    match &job.result {
        Ok(answer) => {
            line["key"] = json!(answer.key);
            line["width"] = json!(answer.width);
            line["height"] = json!(answer.height);
            line["bytes"] = json!(answer.bytes);
            line["downloaded_bytes"] = json!(answer.downloaded_bytes);
        }
        Err(err) => {
            line["exc_type"] = json!(err.exc_type);
            line["exc_module"] = json!(err.exc_module);
            line["error"] = json!(err.message);
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tandem::celery::task::Answer;

    #[test]
    fn a_done_job_says_what_it_made_from_what_it_downloaded() {
        let job = || Job {
            task_id: Some("t1".into()),
            url: Some("http://x/a.png".into()),
            result: Ok(Answer {
                key: "tandem:png:t1".into(),
                width: 64,
                height: 32,
                bytes: 900,
                source: Some((640, 320)),
                downloaded_bytes: Some(12_345),
            }),
            elapsed: Duration::from_millis(3),
            redelivered: false,
        };
        let (human, _) = line(&WorkerEvent::Done(job()), false);
        assert!(
            human.contains("t1 ok 64x32 900 B (from 12345 B)"),
            "{human}"
        );
        let (json, _) = line(&WorkerEvent::Done(job()), true);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (value["bytes"].as_u64(), value["downloaded_bytes"].as_u64()),
            (Some(900), Some(12_345))
        );
    }

    #[test]
    fn a_failed_job_names_its_cause_in_both_forms() {
        let job = Job {
            task_id: Some("t1".into()),
            url: Some("http://x/\u{1b}[31m".into()),
            result: Err(RemoteError::tandem("DownloadError", "refused")),
            elapsed: Duration::from_millis(3),
            redelivered: true,
        };
        let (human, to_stdout) = line(&WorkerEvent::Done(job), false);
        assert!(!to_stdout);
        assert!(
            human.contains("t1 FAILED") && human.contains("tandem.DownloadError: refused"),
            "{human}"
        );
        assert!(
            !human.contains('\u{1b}'),
            "terminal escapes are not printed"
        );
        let revoked = Job {
            task_id: Some("t2".into()),
            url: None,
            result: Err(RemoteError::revoked()),
            elapsed: Duration::ZERO,
            redelivered: false,
        };
        let (human, _) = line(&WorkerEvent::Done(revoked), false);
        assert!(human.contains("t2 REVOKED: not run"), "{human}");
        let expired = Job {
            task_id: Some("t3".into()),
            url: None,
            result: Err(RemoteError::expired()),
            elapsed: Duration::ZERO,
            redelivered: false,
        };
        let (human, _) = line(&WorkerEvent::Done(expired), false);
        assert!(human.contains("t3 EXPIRED: not run"), "{human}");
        assert!(!human.contains("FAILED"), "{human}");
        let job = Job {
            task_id: None,
            url: None,
            result: Err(RemoteError::tandem("BadMessage", "x")),
            elapsed: Duration::ZERO,
            redelivered: false,
        };
        let (json, to_stdout) = line(&WorkerEvent::Done(job), true);
        assert!(to_stdout);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (value["ok"].as_bool(), value["exc_type"].as_str()),
            (Some(false), Some("BadMessage"))
        );
    }

    #[test]
    fn held_and_given_back_jobs_are_said_on_stderr() {
        let scheduled = WorkerEvent::Scheduled {
            task_id: Some("t9".to_string()),
            eta: "2026-12-03T07:00:04.000000+00:00".to_string(),
        };
        let (line, to_stdout) = super::line(&scheduled, true);
        assert!(!to_stdout, "not a job line");
        assert_eq!(
            line,
            "tandem worker: t9 scheduled: held until its eta 2026-12-03T07:00:04.000000+00:00"
        );
        let (line, to_stdout) = super::line(&WorkerEvent::GivenBack(None), true);
        assert!(!to_stdout);
        assert!(line.contains("(no id) given back to its queue"), "{line}");
    }
}
