//! Raw and netlink sockets, `:protocol` and `socket_protocol`, the `:ipv4`/`:ipv6` address
//! families, `lookup_interface`, and `bind_address` taking any address type.

use sockets::*;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn protocol_by_name_and_number_reads_back() {
    let tcp = make_socket().protocol("tcp").build_active().unwrap();
    assert_eq!(tcp.socket_protocol().unwrap(), 6);
    let udp = make_socket()
        .keyword(":protocol", ":udp")
        .unwrap()
        .build_datagram()
        .unwrap();
    assert_eq!(udp.socket_protocol().unwrap(), 17);
    let by_number = make_socket().protocol(6).build_active().unwrap();
    assert_eq!(by_number.socket_protocol().unwrap(), 6);
    assert!(matches!(
        make_socket().protocol("no-such-protocol").build(),
        Err(Error::UnknownProtocol(_))
    ));
}

#[test]
fn ipv4_and_ipv6_families() {
    let s = make_socket()
        .keywords([(":address-family", ":ipv4"), (":connect", ":passive")])
        .unwrap()
        .local_port(0)
        .build_passive()
        .unwrap();
    assert_eq!(s.family(), Family::Ipv4);
    let s = make_socket()
        .keyword(":address-family", ":ipv6")
        .unwrap()
        .build_datagram()
        .unwrap();
    assert_eq!(s.family(), Family::Ipv6);
}

#[test]
fn bind_address_takes_any_address_type() {
    let p = PassiveSocket::new(Family::Ipv4).unwrap();
    p.bind_address(IPV4_UNSPECIFIED, 0).unwrap();
    assert_eq!(p.local_host().unwrap(), ANY_IPV4);
    let d = DatagramSocket::new(Family::Ipv4).unwrap();
    d.bind_address(IPV4_LOOPBACK, 0, true).unwrap();
    let port = d.local_port().unwrap();
    let d2 = DatagramSocket::new(Family::Ipv4).unwrap();
    d2.connect(std::net::Ipv4Addr::LOCALHOST, port).unwrap();
    // The old form still compiles.
    let a = ActiveSocket::new(Family::Ipv4, ExternalFormat::UTF8_LF).unwrap();
    let loopback = Address::Ipv4(IPV4_LOOPBACK);
    a.bind_address(&loopback, 0).unwrap();
    assert_eq!(a.local_host().unwrap(), loopback);
}

#[test]
fn lookup_interface_by_name_and_index() {
    let all = list_network_interfaces().unwrap();
    let (index, name) = all.first().cloned().expect("at least one interface");
    assert_eq!(lookup_interface(&name).unwrap(), (name.clone(), index));
    assert_eq!(lookup_interface(&index.to_string()).unwrap(), (name, index));
    assert!(lookup_interface("no-such-if0").is_err());
    assert!(lookup_interface("4000000000").is_err());
}

#[test]
fn raw_icmp_socket_needs_privilege_or_works() {
    let r = make_socket()
        .keywords([(":type", ":raw"), (":protocol", ":icmp")])
        .unwrap()
        .build();
    match r {
        Ok(Socket::Raw(s)) => {
            assert_eq!(s.kind(), SocketKind::Raw);
            assert_eq!(s.socket_protocol().unwrap(), 1);
            assert!(!s.include_headers().unwrap());
            s.set_include_headers(true).unwrap();
            assert!(s.include_headers().unwrap());
            assert!(s.to_string().starts_with("#<raw ipv4 socket"));
        }
        Ok(other) => panic!("not a raw socket: {other:?}"),
        Err(e) => {
            assert!(!is_root(), "root could not make a raw socket: {e}");
            let errno = e.errno();
            assert!(
                errno == Some(Errno::EPERM) || errno == Some(Errno::EACCES),
                "{e}"
            );
        }
    }
}

#[test]
fn raw_sockets_cannot_be_passive() {
    assert!(matches!(
        make_socket()
            .kind(SocketKind::Raw)
            .connect(Connect::Passive)
            .build(),
        Err(Error::InvalidArgument(_))
    ));
}

#[cfg(target_os = "linux")]
#[test]
fn netlink_route_socket_binds_to_multicast_groups() {
    // RTMGRP_LINK = 1: no privilege needed to listen to link changes.
    let s = make_socket()
        .keywords([(":address-family", ":netlink"), (":protocol", ":route")])
        .unwrap()
        .multicast_groups(1)
        .build_raw()
        .unwrap();
    assert_eq!(s.family(), Family::Netlink);
    let name = s.netlink_local_name().unwrap();
    assert_eq!(name.multicast_groups, 1);
    assert_ne!(name.port, 0, "the kernel assigns a port id");
    // An RTM_GETLINK dump request: the kernel answers with at least one message.
    let mut req = Vec::new();
    let len: u32 = 16 + 16;
    req.extend_from_slice(&len.to_ne_bytes());
    req.extend_from_slice(&18u16.to_ne_bytes()); // RTM_GETLINK
    req.extend_from_slice(&(0x1u16 | 0x300).to_ne_bytes()); // NLM_F_REQUEST | NLM_F_DUMP
    req.extend_from_slice(&1u32.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&[0u8; 16]); // struct ifinfomsg
    s.send_to_netlink(&req, NetlinkAddress::default(), MsgFlags::empty())
        .unwrap();
    assert!(s
        .wait_readable(Some(std::time::Duration::from_secs(5)))
        .unwrap());
    let mut buf = vec![0u8; 65536];
    let (n, from) = s.receive_from_netlink(&mut buf, MsgFlags::empty()).unwrap();
    assert!(n >= 16);
    assert_eq!(from.port, 0, "the kernel answers");
}
