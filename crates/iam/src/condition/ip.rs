//! IPv4 and IPv6 CIDR blocks for `IpAddress` / `NotIpAddress` (and the listeners' trusted
//! proxies).

use std::net::IpAddr;

/// An address block such as `203.0.113.0/24` or `2001:DB8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses CIDR notation. A bare address means a single host (`/32` or
    /// `/128`), as IAM documents. Host bits below the prefix are allowed and
    /// ignored, since IAM accepts `203.0.113.5/24`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| format!("\"{address}\" is not an IPv4 or IPv6 address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                let length =
                    if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) { p.parse::<u8>().ok() } else { None };
                match length {
                    Some(n) if n <= max => n,
                    _ => {
                        return Err(format!("prefix length \"/{p}\" must be a whole number from 0 to {max}"));
                    }
                }
            }
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` lies inside the block. An IPv4-mapped IPv6 address
    /// (`::ffff:203.0.113.7`) is checked against IPv4 blocks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(u128::from(net), u128::from(ip), self.prefix, 128),
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip.to_ipv4_mapped().is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether `a` and `b` agree in their top `prefix` bits out of `width`.
fn same_prefix(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let host_bits = width.saturating_sub(u32::from(prefix));
    // Shifting out all 128 bits is not allowed; a /0 block matches anything.
    match (a.checked_shr(host_bits), b.checked_shr(host_bits)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_blocks() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains(ip("203.0.113.0")));
        assert!(c.contains(ip("203.0.113.255")));
        assert!(!c.contains(ip("203.0.114.1")));
        assert!(Cidr::parse("10.1.2.3").unwrap().contains(ip("10.1.2.3")));
        assert!(!Cidr::parse("10.1.2.3").unwrap().contains(ip("10.1.2.4")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("192.0.2.1")));
        assert!(Cidr::parse("203.0.113.77/24").unwrap().contains(ip("203.0.113.1")));
        assert!(Cidr::parse("10.0.0.0/31").unwrap().contains(ip("10.0.0.1")));
        assert!(!Cidr::parse("10.0.0.0/31").unwrap().contains(ip("10.0.0.2")));
    }

    #[test]
    fn ipv6_blocks() {
        let c = Cidr::parse("2001:DB8:1234:5678::/64").unwrap();
        assert!(c.contains(ip("2001:db8:1234:5678:abcd::1")));
        assert!(!c.contains(ip("2001:db8:1234:5679::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Cidr::parse("2001:db8::1").unwrap().contains(ip("2001:db8::1")));
        assert!(!Cidr::parse("2001:db8::1").unwrap().contains(ip("2001:db8::2")));
    }

    #[test]
    fn families_do_not_mix_except_mapped() {
        let v4 = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(v4.contains(ip("::ffff:203.0.113.9")));
        assert!(!v4.contains(ip("2001:db8::1")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("203.0.113.9")));
    }

    #[test]
    fn rejects_bad_blocks() {
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "300.1.1.1", "host"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("0 to 32"));
    }
}
