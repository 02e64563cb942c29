//! Opening a TCP connection on the loop: resolving a host and trying each
//! of its addresses. Shared by the HTTP client and the Redis client.
//!
//! # Why a module of its own
//!
//! Both clients need the same two steps before they speak their protocol,
//! and the first one hides a trap: the system resolver *blocks*, so a name
//! is looked up on the blocking pool ([`blocking::unblock`]) while a
//! literal IP address skips it. Each client wraps these in its own error
//! type and its own connect timeout.
//!
//! ```text
//!  resolve(host, port) ─► [addr, addr, ...] ─► connect_any: first that answers
//! ```

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};

use async_io::Async;

/// The addresses of `host`: a literal IP at once, a name through the system
/// resolver on the blocking pool.
pub async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.to_string();
    let addrs =
        blocking::unblock(move || (name.as_str(), port).to_socket_addrs().map(Vec::from_iter))
            .await?;
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no addresses"));
    }
    Ok(addrs)
}

/// Connects to the first of `addrs` that accepts, with `TCP_NODELAY` set
/// (both protocols write small requests at once; Nagle's algorithm would
/// hold them back). On failure, the last address tried and its error.
pub async fn connect_any(
    addrs: &[SocketAddr],
) -> Result<Async<TcpStream>, (SocketAddr, io::Error)> {
    // Only an empty list leaves this first value: `resolve` never returns one.
    let mut last_error = (
        SocketAddr::from(([0, 0, 0, 0], 0)),
        io::ErrorKind::NotFound.into(),
    );
    for &addr in addrs {
        match Async::<TcpStream>::connect(addr).await {
            Ok(stream) => {
                // Only an optimisation, so a failure to set it is ignored.
                let _ = stream.get_ref().set_nodelay(true);
                return Ok(stream);
            }
            Err(source) => last_error = (addr, source),
        }
    }
    Err(last_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_address_needs_no_lookup() {
        let addrs = async_io::block_on(resolve("127.0.0.1", 6379)).unwrap();
        assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 1], 6379))]);
    }

    #[test]
    fn a_closed_port_is_refused() {
        // Bind, note the port, close: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let (tried, err) = async_io::block_on(connect_any(&[addr])).unwrap_err();
        assert_eq!(tried, addr);
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
