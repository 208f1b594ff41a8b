//! Who is calling: the client address, believing `X-Forwarded-For` only from trusted
//! proxies (otherwise any client could pick its own address and dodge per-address limits).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address. Walks `X-Forwarded-For` from the right (the entry our own proxy
/// added) past trusted proxies; the first untrusted hop is the client (RFC 7239 section 7.4
/// explains why the left-most entry cannot be trusted).
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer_ip = peer.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer_ip) {
        return peer_ip;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut client = peer_ip;
    for hop in hops.into_iter().rev() {
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.0.0.5:1234".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:1234".parse().unwrap();
        // From the proxy: the forwarded client counts.
        assert_eq!(
            client_ip(proxy, &headers("198.51.100.7"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // A spoofed left-most entry is ignored: the proxy appended the real one.
        assert_eq!(
            client_ip(proxy, &headers("1.2.3.4, 198.51.100.7"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // From an untrusted peer: the header is ignored.
        assert_eq!(
            client_ip(stranger, &headers("1.2.3.4"), &trusted),
            stranger.ip()
        );
    }
}
