//! `redis://[user:password@]host[:port][/db]`: where the broker is.
//!
//! The same URL form as Celery's `broker_url` and redis-py's `from_url`, so
//! one value configures a Python worker and a tandem worker alike. Only the
//! plain `redis://` scheme: TLS (`rediss://`) and Unix sockets are not
//! supported, and say so.

use std::fmt;

use super::Error;

/// A parsed `redis://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    /// Host name or IP address (IPv6 without its brackets).
    pub host: String,
    /// Port, 6379 when not given.
    pub port: u16,
    /// The user for `AUTH user password` (Redis 6 ACLs); none for `AUTH password`.
    pub user: Option<String>,
    /// The password, if any.
    pub password: Option<String>,
    /// The database number for `SELECT`, 0 when not given.
    pub db: u32,
}

impl RedisUrl {
    /// Parses `text`.
    ///
    /// ```
    /// let url = tandem::redis::RedisUrl::parse("redis://:secret@127.0.0.1:6380/2")?;
    /// assert_eq!((url.host.as_str(), url.port, url.db), ("127.0.0.1", 6380, 2));
    /// assert_eq!(url.password.as_deref(), Some("secret"));
    /// assert_eq!(url.to_string(), "redis://:***@127.0.0.1:6380/2");
    /// # Ok::<(), tandem::redis::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<RedisUrl, Error> {
        let invalid = |reason| Error::InvalidUrl {
            url: hide_password(text),
            reason,
        };
        let rest = match text.split_once("://") {
            Some(("redis", rest)) => rest,
            Some(_) => return Err(invalid("only redis:// is supported")),
            None => return Err(invalid("it does not start with redis://")),
        };
        let (authority, db) = match rest.split_once('/') {
            Some((authority, "")) => (authority, 0),
            Some((authority, db)) => {
                let db = db
                    .parse()
                    .map_err(|_| invalid("the database is not a number"))?;
                (authority, db)
            }
            None => (rest, 0),
        };
        let (user, password, host_port) = match authority.rsplit_once('@') {
            Some((credentials, host_port)) => {
                let (user, password) = match credentials.split_once(':') {
                    Some((user, password)) => (user, Some(password.to_string())),
                    None => (credentials, None),
                };
                let user = Some(user.to_string()).filter(|user| !user.is_empty());
                (
                    user,
                    password.filter(|password| !password.is_empty()),
                    host_port,
                )
            }
            None => (None, None, authority),
        };
        let (host, port) = split_host_port(host_port).ok_or_else(|| invalid("bad host or port"))?;
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        Ok(RedisUrl {
            host: host.to_string(),
            port,
            user,
            password,
            db,
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(port) => port.parse().ok().filter(|&port| port > 0)?,
        None => 6379,
    };
    Some((host, port))
}

/// The URL with the password replaced by `***`, for messages.
fn hide_password(text: &str) -> String {
    match text.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, after)) if credentials.contains(':') => {
                let user = credentials.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***@{after}")
            }
            _ => text.to_string(),
        },
        None => text.to_string(),
    }
}

impl fmt::Display for RedisUrl {
    /// The URL, with any password shown as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis://")?;
        if self.user.is_some() || self.password.is_some() {
            let user = self.user.as_deref().unwrap_or("");
            let password = if self.password.is_some() { ":***" } else { "" };
            write!(f, "{user}{password}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}/{}", self.host, self.port, self.db)
        } else {
            write!(f, "{}:{}/{}", self.host, self.port, self.db)
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_read() {
        let url = RedisUrl::parse("redis://alice:s3cret@cache.local:7000/5").unwrap();
        assert_eq!(url.host, "cache.local");
        assert_eq!(url.port, 7000);
        assert_eq!(url.user.as_deref(), Some("alice"));
        assert_eq!(url.password.as_deref(), Some("s3cret"));
        assert_eq!(url.db, 5);
        assert!(!format!("{url} {url:?}").contains("s3cret"));
    }

    #[test]
    fn defaults_fill_the_gaps() {
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert_eq!(
            (url.port, url.db, url.user, url.password),
            (6379, 0, None, None)
        );
        let url = RedisUrl::parse("redis://[::1]:6380/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 6380));
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        for (text, reason) in [
            ("rediss://h", "only redis:// is supported"),
            ("h:6379", "it does not start with redis://"),
            ("redis://h:0", "bad host or port"),
            ("redis://h:port", "bad host or port"),
            ("redis://h/x", "the database is not a number"),
            ("redis://u:pw@:1", "no host"),
        ] {
            match RedisUrl::parse(text) {
                Err(Error::InvalidUrl { url, reason: why }) => {
                    assert_eq!(why, reason, "{text}");
                    assert!(!url.contains("pw"), "{url}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
