//! Who is calling: the client address, believing `X-Forwarded-For` only from trusted
//! proxies (otherwise any client could pick its own address and dodge per-address limits).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The `User-Agent` header, cut to what the auth event log keeps (a header that is not
/// UTF-8 is kept lossily: it is only shown, never compared).
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::USER_AGENT)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let context = crate::core::threat::EventContext::new(None, None, Some(&text));
    context.user_agent
}

/// The client's address. Walks `X-Forwarded-For` from the right (the entry our own proxy
/// added) past trusted proxies; the first untrusted hop is the client (RFC 7239 section 7.4
/// explains why the left-most entry cannot be trusted). An entry may carry a port
/// (`203.0.113.9:4711`, `[2001:db8::1]:4711`, as some load balancers write it); an entry
/// that is no address at all (`unknown`, garbage) ends the walk at the trusted hop that
/// wrote it: what stands to its left was written by someone we cannot vouch for, so it must
/// not choose the address that budgets and locks are counted under.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer_ip = peer.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer_ip) {
        return peer_ip;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer_ip;
    for hop in hops.into_iter().rev() {
        let Some(hop) = parse_hop(hop) else {
            break;
        };
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, or an address with a port.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
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
        // Ports are read past; an entry that is no address stops the walk at the proxy
        // that wrote it, so the attacker's entry to its left never counts.
        assert_eq!(
            client_ip(proxy, &headers("1.2.3.4, 198.51.100.7:4711"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(proxy, &headers("[2001:db8::7]:4711"), &trusted),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        for spoof in ["1.2.3.4, unknown", "1.2.3.4, not-an-address", "1.2.3.4, "] {
            assert_eq!(
                client_ip(proxy, &headers(spoof), &trusted),
                proxy.ip(),
                "{spoof}"
            );
        }
    }
}
