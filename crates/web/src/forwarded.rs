//! The client address behind a reverse proxy. A request's TCP peer is its client unless the peer
//! is a trusted proxy; then the client is read from the one header the proxies are said to write
//! (`X-Forwarded-For` or RFC 7239 `Forwarded`), walking its hops from the right — the proxy
//! nearest the listener appended last — past the trusted ones to the first that is not. The
//! other header is never read: a proxy passes on what it does not write, and a client could
//! have written it. Scheme and host headers are not read at all: the listener's public URL says
//! where it is reached.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use thiserror::Error;

/// A range of addresses, `192.168.0.0/16` or `::1/128`; a bare address is itself alone. An
/// IPv4 peer arriving as `::ffff:a.b.c.d` on a dual-stack socket is judged as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Cidr(crossfed_iam::condition::Cidr);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{text:?} is not an address range: {reason}; expected an address and a prefix length, such as 10.0.0.0/8 or ::1/128"
)]
pub struct CidrError {
    text: String,
    reason: String,
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        crossfed_iam::condition::Cidr::parse(text)
            .map(Cidr)
            .map_err(|reason| CidrError { text: text.to_string(), reason })
    }
}

impl TryFrom<String> for Cidr {
    type Error = CidrError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(canonical(address))
    }
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`; it is judged as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which header the trusted proxies write the client's address in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyHeaders {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS load balancers, Traefik).
    #[default]
    Xforwarded,
    /// RFC 7239 `Forwarded: for=…`.
    Forwarded,
}

impl FromStr for ProxyHeaders {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "xforwarded" => Ok(ProxyHeaders::Xforwarded),
            "forwarded" => Ok(ProxyHeaders::Forwarded),
            other => Err(format!("{other:?} is not a proxy header kind; expected xforwarded or forwarded")),
        }
    }
}

/// The proxies whose forwarded client addresses are believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    pub ranges: Vec<Cidr>,
    pub headers: ProxyHeaders,
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(address))
    }

    /// Who sent a request that came from `peer` with `headers`.
    pub fn client_address(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer.ip());
        if !self.trusts(peer) {
            return peer;
        }
        let hops = match self.headers {
            ProxyHeaders::Xforwarded => {
                hops(headers, "x-forwarded-for", |list| list.split(',').map(str::to_string).collect())
            }
            ProxyHeaders::Forwarded => hops(headers, "forwarded", forwarded_fors),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is no address (`unknown`, an obfuscated name) ends what can be known.
            let Some(address) = parse_node(hop) else { break };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Every hop of header `name`, over all its lines, in order.
fn hops(headers: &HeaderMap, name: &str, split: fn(&str) -> Vec<String>) -> Vec<String> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(split).collect()
}

/// The `for=` values of a `Forwarded` line, one per element.
fn forwarded_fors(line: &str) -> Vec<String> {
    line.split(',')
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim().to_string())
            })
        })
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `"[2001:db8::1]:4711"` (quoted, as `Forwarded` requires for IPv6).
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse().ok().or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(ranges: &[&str], headers: ProxyHeaders) -> TrustedProxies {
        TrustedProxies { ranges: ranges.iter().map(|r| r.parse().unwrap()).collect(), headers }
    }

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn peer(address: &str) -> SocketAddr {
        SocketAddr::new(address.parse().unwrap(), 40000)
    }

    #[test]
    fn ranges_parse_and_contain() {
        let range: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(range.contains("10.1.200.3".parse().unwrap()));
        assert!(!range.contains("10.2.0.1".parse().unwrap()));
        assert!(range.contains("::ffff:10.1.0.9".parse().unwrap()), "an IPv4-mapped peer is IPv4");
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("203.0.113.9".parse().unwrap()));
        assert!(!any.contains("::1".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert_eq!(one.to_string(), "::1/128");
        assert!(one.contains("::1".parse().unwrap()));
        let too_long = "10.0.0.0/33".parse::<Cidr>().unwrap_err().to_string();
        assert!(too_long.contains("from 0 to 32") && too_long.contains("10.0.0.0/8"), "{too_long}");
        assert!("ten/8".parse::<Cidr>().unwrap_err().to_string().contains("\"ten\" is not an IPv4 or IPv6 address"));
        assert!("10.0.0.0/".parse::<Cidr>().is_err(), "an empty prefix is no prefix");
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_past_trusted_hops() {
        let proxies = trusted(&["127.0.0.1/32", "10.0.0.0/8"], ProxyHeaders::Xforwarded);
        let forged = with(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(proxies.client_address(peer("203.0.113.5"), &forged), "203.0.113.5".parse::<IpAddr>().unwrap());
        // The client wrote the left-most entry itself; the right-most untrusted one is real.
        let chain = with(&[("x-forwarded-for", "198.51.100.7, 203.0.113.5"), ("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(proxies.client_address(peer("127.0.0.1"), &chain), "203.0.113.5".parse::<IpAddr>().unwrap());
        assert_eq!(
            proxies.client_address(peer("127.0.0.1"), &HeaderMap::new()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        let unknown = with(&[("x-forwarded-for", "unknown, 10.0.0.3")]);
        assert_eq!(proxies.client_address(peer("127.0.0.1"), &unknown), "10.0.0.3".parse::<IpAddr>().unwrap());
        // A Forwarded header is not what these proxies write: ignored.
        let other = with(&[("forwarded", "for=198.51.100.7")]);
        assert_eq!(proxies.client_address(peer("127.0.0.1"), &other), "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_elements_are_read_for_their_for_parameter() {
        let proxies = trusted(&["::1/128"], ProxyHeaders::Forwarded);
        let headers = with(&[("forwarded", "for=198.51.100.7;proto=https, For=\"[2001:db8::17]:4711\";by=x")]);
        assert_eq!(proxies.client_address(peer("::1"), &headers), "2001:db8::17".parse::<IpAddr>().unwrap());
        let with_port = with(&[("forwarded", "proto=http;for=\"192.0.2.60:8080\"")]);
        assert_eq!(proxies.client_address(peer("::1"), &with_port), "192.0.2.60".parse::<IpAddr>().unwrap());
        let ignored = with(&[("x-forwarded-for", "192.0.2.1")]);
        assert_eq!(proxies.client_address(peer("::1"), &ignored), "::1".parse::<IpAddr>().unwrap());
    }
}
