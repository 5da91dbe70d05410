//! The client's address: the peer, or — only when the peer is a trusted proxy — the nearest
//! untrusted address in `X-Forwarded-For`.

use std::fmt;
use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::web::Data;
use ipnet::IpNet;

use crate::HttpSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    #[must_use]
    pub fn of(req: &HttpRequest) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        let trusted: &[IpNet] = req.app_data::<Data<HttpSettings>>().map_or(&[], |s| s.trusted_proxies.as_slice());
        Self(resolve(peer, req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()), trusted))
    }
}

fn resolve(peer: Option<IpAddr>, forwarded: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(chain) = forwarded else { return Some(peer) };
    // Walk from the right: each trusted hop vouches for the one before it.
    let mut client = peer;
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        assert_eq!(resolve(Some(ip("1.2.3.4")), Some("9.9.9.9"), &trusted), Some(ip("1.2.3.4")));
        assert_eq!(resolve(Some(ip("1.2.3.4")), Some("9.9.9.9"), &[]), Some(ip("1.2.3.4")));
    }

    #[test]
    fn a_trusted_proxy_chain_yields_the_nearest_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let got = resolve(Some(ip("10.0.0.1")), Some("6.6.6.6, 9.9.9.9, 10.0.0.2"), &trusted);
        assert_eq!(got, Some(ip("9.9.9.9")));
        assert_eq!(resolve(Some(ip("10.0.0.1")), Some("garbage"), &trusted), Some(ip("10.0.0.1")));
        assert_eq!(resolve(Some(ip("10.0.0.1")), None, &trusted), Some(ip("10.0.0.1")));
    }
}
