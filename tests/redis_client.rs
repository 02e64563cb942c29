//! The Redis client against a real `redis-server` (started by each test on
//! a free 127.0.0.1 port) and against servers that are not Redis.
#![cfg(feature = "celery")]

mod support;

use std::time::Duration;

use support::hostile_server::{HostileServer, Step};
use support::redis_server::RedisServer;
use tandem::redis::{Client, Error, RedisUrl, ReplyLimits, Settings, Value};

fn client(url: &str, settings: Settings) -> Client {
    Client::new(RedisUrl::parse(url).unwrap(), settings)
}

fn quick() -> Settings {
    Settings {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        reconnect_for: Duration::from_secs(5),
        ..Settings::default()
    }
}

#[test]
fn commands_round_trip_through_a_real_server() {
    let Some(server) = RedisServer::start("commands_round_trip_through_a_real_server") else {
        return;
    };
    let redis = client(&server.url(), quick());
    tandem::block_on(async {
        redis.ping().await.unwrap();
        assert_eq!(redis.get("missing").await.unwrap(), None);
        let binary = [0u8, 13, 10, 255, b'$'];
        redis.command(&[b"SET", b"k", &binary]).await.unwrap();
        assert_eq!(redis.get("k").await.unwrap().as_deref(), Some(&binary[..]));

        redis.lpush("q", b"first").await.unwrap();
        redis.lpush("q", b"second").await.unwrap();
        let lists = ["empty".to_string(), "q".to_string()];
        let popped = redis.brpop(&lists, Duration::from_secs(1)).await.unwrap();
        assert_eq!(popped, Some(("q".to_string(), b"first".to_vec())));

        let replies = redis
            .pipeline(&[
                vec![b"INCR", b"n"],
                vec![b"INCR", b"n"],
                vec![b"LPOP", b"k"],
            ])
            .await
            .unwrap();
        assert_eq!(replies[..2], [Value::Integer(1), Value::Integer(2)]);
        assert!(matches!(&replies[2], Value::Error(message) if message.starts_with("WRONGTYPE")));
        let refused = redis.command(&[b"NOSUCHCOMMAND"]).await.unwrap_err();
        assert!(matches!(refused, Error::Server(_)), "{refused}");
    });
}

#[test]
fn brpop_on_empty_lists_returns_none_after_its_wait() {
    let Some(server) = RedisServer::start("brpop_on_empty_lists_returns_none_after_its_wait")
    else {
        return;
    };
    let redis = client(&server.url(), quick());
    let popped = tandem::block_on(redis.brpop(&["nothing".into()], Duration::from_millis(100)));
    assert_eq!(popped.unwrap(), None);
}

#[test]
fn the_database_number_selects_the_database() {
    let Some(server) = RedisServer::start("the_database_number_selects_the_database") else {
        return;
    };
    let in_db_3 = client(&format!("{}/3", server.url()), quick());
    let in_db_0 = client(&server.url(), quick());
    tandem::block_on(async {
        in_db_3
            .command(&[b"SET", b"where", b"three"])
            .await
            .unwrap();
        assert_eq!(in_db_0.get("where").await.unwrap(), None);
        assert_eq!(in_db_3.get("where").await.unwrap(), Some(b"three".to_vec()));
    });
}

#[test]
fn the_client_reconnects_after_redis_restarts() {
    let Some(mut server) = RedisServer::start("the_client_reconnects_after_redis_restarts") else {
        return;
    };
    let redis = client(&server.url(), quick());
    tandem::block_on(async {
        redis.command(&[b"SET", b"before", b"1"]).await.unwrap();
    });
    server.restart();
    tandem::block_on(async {
        // The idle connection is dead; the command goes out on a new one.
        assert_eq!(
            redis.get("before").await.unwrap(),
            None,
            "a new, empty server"
        );
        redis.command(&[b"SET", b"after", b"2"]).await.unwrap();
        assert_eq!(redis.get("after").await.unwrap(), Some(b"2".to_vec()));
    });
}

#[test]
fn a_reply_over_the_limit_is_an_error_and_nothing_is_allocated_for_it() {
    let Some(server) = RedisServer::start("a_reply_over_the_limit_is_an_error") else {
        return;
    };
    let small = Settings {
        limits: ReplyLimits {
            max_bulk_bytes: 1024,
            ..ReplyLimits::default()
        },
        ..quick()
    };
    let redis = client(&server.url(), small);
    tandem::block_on(async {
        redis
            .command(&[b"SET", b"big", &vec![b'x'; 4096]])
            .await
            .unwrap();
        let error = redis.get("big").await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::ReplyTooLarge {
                    what: "bulk string",
                    limit: 1024
                }
            ),
            "{error}"
        );
        // The connection that saw it was dropped; the client still works.
        redis.command(&[b"SET", b"small", b"ok"]).await.unwrap();
        assert_eq!(redis.get("small").await.unwrap(), Some(b"ok".to_vec()));
    });
}

#[test]
fn a_server_that_is_not_redis_is_refused_at_its_first_byte() {
    let http = HostileServer::once([
        Step::AwaitRequest,
        Step::Write(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
        Step::Sleep(Duration::from_secs(3)),
    ]);
    let url = http.url("").replace("http://", "redis://");
    let settings = Settings {
        reconnect_for: Duration::ZERO,
        ..quick()
    };
    let error = tandem::block_on(client(&url, settings).ping()).unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error}");
    assert!(
        error.to_string().contains("is this a Redis server?"),
        "{error}"
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = HostileServer::once([Step::Sleep(Duration::from_secs(3))]);
    let url = silent.url("").replace("http://", "redis://");
    let settings = Settings {
        read_timeout: Duration::from_millis(200),
        reconnect_for: Duration::ZERO,
        ..quick()
    };
    let error = tandem::block_on(client(&url, settings).ping()).unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
}

#[test]
fn a_password_in_the_url_authenticates() {
    if !support::redis_server::installed("redis-server") {
        return support::child::skip("a_password_in_the_url_authenticates", "redis-server");
    }
    let server = RedisServer::start_with(
        support::redis_server::free_port(),
        &["--requirepass", "s3cret"],
    );
    let port = server.port;
    let right = client(&format!("redis://:s3cret@127.0.0.1:{port}/1"), quick());
    tandem::block_on(right.command(&[b"SET", b"k", b"v"])).unwrap();
    let wrong = client(&format!("redis://:nope@127.0.0.1:{port}"), quick());
    let error = tandem::block_on(wrong.ping()).unwrap_err();
    assert!(
        matches!(&error, Error::Server(message) if message.contains("WRONGPASS") || message.contains("invalid")),
        "{error}"
    );
    let none = client(&format!("redis://127.0.0.1:{port}"), quick());
    let error = tandem::block_on(none.ping()).unwrap_err();
    assert!(
        matches!(&error, Error::Server(message) if message.starts_with("NOAUTH")),
        "{error}"
    );
}
