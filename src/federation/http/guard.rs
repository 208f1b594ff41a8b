//! Where Cognate may send a request to an identity provider.
//!
//! A discovery document is the IdP's word, and a hostile or compromised IdP (one tenant's,
//! among many in an enterprise deployment) could name any URL in it: plain http, which
//! would carry the client secret and codes in clear; another host, which would receive
//! them; or an internal service (a cloud metadata endpoint at 169.254.169.254, a database
//! on 10/8), which Cognate would then query on the IdP's behalf (server-side request
//! forgery). Three checks close that:
//!
//! - [`check_discovered`]: a discovered endpoint is https on the issuer's own host and
//!   port (OpenID Connect Discovery 1.0 section 3 asks for https; plain http only when the
//!   issuer itself is on loopback, as a development IdP is). An endpoint the operator
//!   declared is the operator's choice and skips this check.
//! - [`PublicResolver`]: every host name is resolved by Cognate's own resolver, which
//!   keeps only public addresses, so the address actually connected to is checked, not
//!   the name (a name checked and then resolved again loses to DNS rebinding). Names
//!   under `localhost` keep their loopback addresses (RFC 6761 section 6.3).
//! - [`check_literal`]: a URL whose host is an IP address is never resolved, so it is
//!   checked as written: public, or loopback (an IdP on the same machine; a discovered
//!   loopback endpoint is on the issuer's host by the first check, so the issuer is
//!   loopback too).
//!
//! Like Cognito, which reaches IdPs from the public internet, Cognate does not talk to
//! IdPs on private addresses, except in the networks the operator lists in
//! `idp_private_networks` (an in-house IdP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Whether an address is on the public internet: not private (RFC 1918, RFC 4193),
/// link-local (RFC 3927, RFC 4291), loopback, unspecified, shared (RFC 6598),
/// documentation, benchmarking, multicast or reserved. IPv6 forms that embed an IPv4
/// address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`) are
/// judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || a == 0 // 0.0.0.0/8, "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, RFC 6598 shared (CGNAT)
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, RFC 2544 benchmarking
        || ip.is_multicast()
        || a >= 240) // 240.0.0.0/4 reserved, and the broadcast address
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // fc00::/7, unique local (RFC 4193)
        || (first & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (first & 0xffc0) == 0xfec0 // fec0::/10, deprecated site-local
        || ip.is_multicast()
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)) // 2001:db8::/32, documentation
}

/// The IPv4 address an IPv6 address stands for, in the forms a connection reaches it by.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    // ::a.b.c.d (deprecated IPv4-compatible; `::` and `::1` are IPv6's own) and
    // 64:ff9b::a.b.c.d (RFC 6052 NAT64).
    let compatible = s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (compatible || nat64).then_some(tail)
}

/// Whether an address is loopback, in either family or an IPv4-mapped form.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether a host names the local machine: a loopback address, or `localhost` and the
/// names under it (RFC 6761 section 6.3).
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(v4) => v4.is_loopback(),
        Host::Ipv6(v6) => is_loopback(IpAddr::V6(*v6)),
        Host::Domain(name) => is_localhost_name(name),
    }
}

fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `ip` is in one of the operator's networks (an IPv4-mapped address counts as
/// its IPv4 address).
fn in_networks(ip: IpAddr, networks: &[IpNet]) -> bool {
    let plain = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    networks
        .iter()
        .any(|n| n.contains(&ip) || n.contains(&plain))
}

/// A URL whose host is an IP address (no resolver sees it): refused unless the address
/// is public, loopback, or in the operator's `networks`. Host names are left to
/// [`PublicResolver`].
pub fn check_literal(url: &Url, networks: &[IpNet]) -> Result<(), String> {
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if is_public(ip) || is_loopback(ip) || in_networks(ip, networks) {
        Ok(())
    } else {
        Err(format!("{ip} is not a public address"))
    }
}

/// An endpoint read from `issuer`'s discovery document: https (http only when the issuer
/// itself is on loopback), on the issuer's host and port.
pub fn check_discovered(issuer: &str, endpoint: &str) -> Result<(), String> {
    let issuer = Url::parse(issuer).map_err(|e| format!("the issuer is not a URL: {e}"))?;
    let url = Url::parse(endpoint).map_err(|e| format!("not a URL: {e}"))?;
    let local = issuer.host().is_some_and(|h| is_loopback_host(&h));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        scheme => {
            return Err(format!(
                "{scheme} is refused: a discovered endpoint must use https"
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a discovered endpoint carries no credentials".into());
    }
    let same_host = url.host_str().map(str::to_ascii_lowercase)
        == issuer.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == issuer.port_or_known_default();
    if !same_host {
        return Err(
            "it is not on the issuer's host (declare the endpoint in the provider's settings \
             if the IdP really serves it elsewhere)"
                .into(),
        );
    }
    Ok(())
}

/// The system resolver, keeping only the addresses Cognate may connect to: public ones,
/// those in the operator's networks, and loopback ones for names under `localhost`. A name
/// left with none fails to resolve.
#[derive(Debug, Default, Clone)]
pub struct PublicResolver {
    networks: Arc<[IpNet]>,
}

impl PublicResolver {
    pub fn new(networks: &[IpNet]) -> Self {
        PublicResolver {
            networks: networks.into(),
        }
    }
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let networks = self.networks.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = allowed_addresses(&host, found, &networks);
            if kept.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The resolved addresses of `host` that Cognate may connect to.
pub fn allowed_addresses(
    host: &str,
    found: Vec<SocketAddr>,
    networks: &[IpNet],
) -> Vec<SocketAddr> {
    let local = is_localhost_name(host);
    found
        .into_iter()
        .filter(|a| {
            is_public(a.ip()) || (local && is_loopback(a.ip())) || in_networks(a.ip(), networks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_link_local_and_unspecified_addresses_are_not_public() {
        for refused in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "127.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
            "::10.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip(refused)), "{refused} counted as public");
        }
        for public in [
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "169.255.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public} counted as not public");
        }
    }

    #[test]
    fn literal_hosts_are_public_or_loopback() {
        let check = |u: &str| check_literal(&Url::parse(u).unwrap(), &[]);
        check("https://8.8.8.8/token").unwrap();
        check("http://127.0.0.1:8080/token").unwrap();
        check("http://[::1]:8080/token").unwrap();
        check("https://idp.example/token").unwrap();
        for refused in [
            "http://10.0.0.1/token",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/token",
            "http://[fd00::1]/token",
            "http://[::ffff:10.0.0.1]/token",
            "http://0.0.0.0:8080/token",
            "http://[::]/token",
        ] {
            assert!(check(refused).is_err(), "{refused} allowed");
        }
        // The operator's internal network, and only it.
        let nets: Vec<IpNet> = vec!["10.1.2.0/24".parse().unwrap()];
        let with = |u: &str| check_literal(&Url::parse(u).unwrap(), &nets);
        with("http://10.1.2.3/token").unwrap();
        with("http://[::ffff:10.1.2.3]/token").unwrap();
        assert!(with("http://10.1.3.3/token").is_err());
        assert!(with("http://169.254.169.254/").is_err());
    }

    #[test]
    fn resolved_addresses_keep_only_public_ones_and_loopback_for_localhost() {
        let addrs = |list: &[&str]| -> Vec<SocketAddr> {
            list.iter().map(|a| SocketAddr::new(ip(a), 443)).collect()
        };
        let mixed = addrs(&["10.0.0.1", "93.184.216.34", "169.254.169.254", "::1"]);
        assert_eq!(
            allowed_addresses("idp.example", mixed.clone(), &[]),
            addrs(&["93.184.216.34"])
        );
        // DNS rebinding to loopback or the metadata service: nothing left.
        assert!(allowed_addresses("idp.example", addrs(&["127.0.0.1"]), &[]).is_empty());
        assert!(allowed_addresses("idp.example", addrs(&["169.254.169.254"]), &[]).is_empty());
        assert_eq!(
            allowed_addresses("localhost", addrs(&["127.0.0.1", "::1", "10.0.0.1"]), &[]),
            addrs(&["127.0.0.1", "::1"])
        );
        assert_eq!(
            allowed_addresses("idp.localhost.", addrs(&["127.0.0.1"]), &[]),
            addrs(&["127.0.0.1"])
        );
        let nets: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            allowed_addresses("keycloak.internal", mixed, &nets),
            addrs(&["10.0.0.1", "93.184.216.34"])
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_no_public_address() {
        let name: Name = "localhost".parse().unwrap();
        let found: Vec<_> = PublicResolver::default()
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
        // A literal private address handed to the resolver as a name is filtered too.
        let name: Name = "10.0.0.1".parse().unwrap();
        assert!(PublicResolver::default().resolve(name).await.is_err());
    }

    /// The client refuses an internal address before connecting (an unroutable
    /// 10.255.255.1 would otherwise cost the whole connect timeout).
    #[tokio::test]
    async fn the_client_connects_to_no_internal_address() {
        let http = super::super::IdpHttp::new(super::super::HttpSettings::default());
        for url in [
            "http://10.255.255.1:9/token",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:192.168.0.1]/token",
        ] {
            let started = std::time::Instant::now();
            let err = http.get_json(url, None).await.unwrap_err();
            assert!(
                matches!(err, super::super::HttpError::Refused { .. }),
                "{url}: {err}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
        // In the operator's network the client does try to connect (and, nothing
        // answering there, fails to).
        let http = super::super::IdpHttp::new(super::super::HttpSettings {
            connect_timeout: std::time::Duration::from_millis(200),
            private_networks: vec!["10.255.255.0/24".parse().unwrap()],
            ..Default::default()
        });
        let err = http
            .get_json("http://10.255.255.1:9/token", None)
            .await
            .unwrap_err();
        assert!(
            !matches!(err, super::super::HttpError::Refused { .. }),
            "{err}"
        );
    }

    #[test]
    fn discovered_endpoints_are_https_on_the_issuers_host() {
        let google = "https://accounts.example";
        check_discovered(google, "https://accounts.example/token").unwrap();
        check_discovered(google, "https://ACCOUNTS.example:443/jwks").unwrap();
        for refused in [
            "http://accounts.example/token",
            "https://evil.example/token",
            "https://accounts.example.evil.example/token",
            "https://accounts.example:8443/token",
            "https://user:pw@accounts.example/token",
            "https://10.0.0.1/token",
            "https://169.254.169.254/token",
            "http://127.0.0.1/token",
            "ftp://accounts.example/token",
            "not a url",
        ] {
            assert!(
                check_discovered(google, refused).is_err(),
                "{refused} allowed"
            );
        }
        // A loopback issuer (a development IdP) may use plain http, on its own host only.
        let local = "http://127.0.0.1:9000";
        check_discovered(local, "http://127.0.0.1:9000/token").unwrap();
        check_discovered("http://localhost:9000", "http://localhost:9000/token").unwrap();
        assert!(check_discovered(local, "http://127.0.0.1:9001/token").is_err());
        assert!(check_discovered(local, "http://10.0.0.1:9000/token").is_err());
    }
}
