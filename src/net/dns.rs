//! Name resolution off the loop.
//!
//! The only portable resolver is the C library's `getaddrinfo`, and it blocks (it may read
//! files, query a DNS server, wait seconds for a timeout). asyncio runs it in the default
//! executor; evloop runs it on the blocking pool, so a slow resolver never stalls other tasks.
//! IP literals need no resolver at all and are answered on the spot, without a thread.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Resolves `host` (a name, an IPv4 literal, or an IPv6 literal with or without brackets) to
/// socket addresses with `port`.
///
/// # Errors
/// The resolver's error (unknown host, no network…), or `InvalidInput` for an empty name.
///
/// # Cancel safety
/// Dropping the future abandons the lookup; it finishes on its pool thread and is discarded.
#[doc(alias = "getaddrinfo")]
pub async fn lookup_host(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot resolve an empty host name",
        ));
    }
    let name = host.to_string();
    let resolved = crate::spawn_blocking(move || (name.as_str(), port).to_socket_addrs().map(Iterator::collect)).await;
    match resolved {
        Ok(result) => result,
        Err(e) => Err(io::Error::other(format!("name resolution for {host:?} failed: {e}"))),
    }
}
