//! Test frames: Ethernet + IPv4/IPv6 + TCP (PSH|ACK) around a payload, as the XDP programs
//! see them on the wire, with valid checksums.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The client's TCP port in every frame.
pub const CLIENT_PORT: u16 = 40_000;

/// A frame from `client` to `server:dst_port` carrying `payload` in one segment. Both
/// addresses should have the same family; when they do not, the server address is replaced by
/// the unspecified address of the client's family. Payloads must fit one IP packet (64 KiB).
pub fn tcp_frame(client: IpAddr, server: IpAddr, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + payload.len());
    tcp.extend_from_slice(&CLIENT_PORT.to_be_bytes());
    tcp.extend_from_slice(&dst_port.to_be_bytes());
    tcp.extend_from_slice(&1u32.to_be_bytes());
    tcp.extend_from_slice(&1u32.to_be_bytes());
    tcp.push(5 << 4);
    tcp.push(0x18);
    tcp.extend_from_slice(&0xffffu16.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]);
    tcp.extend_from_slice(payload);

    let mut frame = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01];
    match client {
        IpAddr::V4(src) => {
            let dst = match server {
                IpAddr::V4(dst) => dst,
                IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
            };
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
            set_tcp_checksum(&mut tcp, &pseudo);
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
            ip.extend_from_slice(&src.octets());
            ip.extend_from_slice(&dst.octets());
            let checksum = internet_checksum(&[&ip]);
            ip[10..12].copy_from_slice(&checksum.to_be_bytes());
            frame.extend_from_slice(&[0x08, 0x00]);
            frame.extend_from_slice(&ip);
        }
        IpAddr::V6(src) => {
            let dst = match server {
                IpAddr::V6(dst) => dst,
                IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
            };
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&src.octets());
            pseudo.extend_from_slice(&dst.octets());
            pseudo.extend_from_slice(&(tcp.len() as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 6]);
            set_tcp_checksum(&mut tcp, &pseudo);
            frame.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            frame.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
            frame.extend_from_slice(&[6, 64]);
            frame.extend_from_slice(&src.octets());
            frame.extend_from_slice(&dst.octets());
        }
    }
    frame.extend_from_slice(&tcp);
    frame
}

/// The same frame with one 802.1Q tag (VLAN `vid`) after the MAC addresses.
pub fn with_vlan(frame: &[u8], vid: u16) -> Vec<u8> {
    let split = frame.len().min(12);
    let mut tagged = frame[..split].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00]);
    tagged.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    tagged.extend_from_slice(&frame[split..]);
    tagged
}

fn set_tcp_checksum(tcp: &mut [u8], pseudo: &[u8]) {
    let checksum = internet_checksum(&[pseudo, tcp]);
    tcp[16..18].copy_from_slice(&checksum.to_be_bytes());
}

fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for part in parts {
        for pair in part.chunks(2) {
            let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
            sum += u32::from(word);
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_expected_layout() {
        let v4 = tcp_frame(IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]), 80, b"hi");
        assert_eq!(v4.len(), 14 + 20 + 20 + 2);
        assert_eq!(&v4[12..14], &[0x08, 0x00]);
        assert_eq!(internet_checksum(&[&v4[14..34]]), 0, "the IPv4 header checksum verifies");
        let v6 = tcp_frame(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), IpAddr::from([0u16; 8]), 80, b"hi");
        assert_eq!(v6.len(), 14 + 40 + 20 + 2);
        let tagged = with_vlan(&v4, 7);
        assert_eq!(&tagged[12..18], &[0x81, 0x00, 0x00, 0x07, 0x08, 0x00]);
    }
}
