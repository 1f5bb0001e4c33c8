//! The resolver's files: a hosts file and a resolv.conf re-read after they change, and
//! missing files that are not errors.

use sockets::dns::{LookupOptions, Resolver};
use sockets::{ensure_address, Error, Ipv6Mode};
use std::path::PathBuf;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iolib-dns-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces a file the way editors do: write a new file, rename it over the old one.
fn replace(path: &PathBuf, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn hosts_file_is_reloaded_after_a_change() {
    let dir = temp_dir("hosts");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "10.0.0.1 foo\n").unwrap();
    let res = Resolver::new(dir.join("resolv.conf"), &hosts);
    let o = LookupOptions::new();
    assert_eq!(
        res.lookup_hostname("foo", &o).unwrap().address,
        ensure_address("10.0.0.1").unwrap()
    );
    replace(&hosts, "10.0.0.2 foo bar\n");
    let h = res.lookup_hostname("bar", &o).unwrap();
    assert_eq!(h.address, ensure_address("10.0.0.2").unwrap());
    assert_eq!(h.canonical_name, "foo");
    // Rewritten in place, same length: the modification time tells.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&hosts, "10.0.0.3 foo bar\n").unwrap();
    assert_eq!(
        res.lookup_hostname("foo", &o).unwrap().address,
        ensure_address("10.0.0.3").unwrap()
    );
    // Reverse lookups use it too.
    assert_eq!(
        res.lookup_hostname("10.0.0.3", &o).unwrap().canonical_name,
        "foo"
    );
    // Removed: an empty hosts file.
    std::fs::remove_file(&hosts).unwrap();
    assert!(res.hosts().entries.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resolv_conf_is_reloaded_after_a_change() {
    let dir = temp_dir("conf");
    let conf = dir.join("resolv.conf");
    let res = Resolver::new(&conf, dir.join("hosts"));
    assert!(res.resolv_conf().search.is_empty());
    replace(
        &conf,
        "nameserver 192.0.2.53\nsearch one.example\noptions ndots:2\n",
    );
    let c = res.resolv_conf();
    assert_eq!(c.search, vec!["one.example"]);
    assert_eq!(c.ndots, 2);
    assert_eq!(c.nameservers, vec!["192.0.2.53:53".parse().unwrap()]);
    replace(&conf, "domain two.example\n");
    assert_eq!(res.resolv_conf().search, vec!["two.example"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_are_not_errors() {
    let res = Resolver::new("/nonexistent/resolv.conf", "/nonexistent/hosts");
    assert!(res.hosts().entries.is_empty());
    assert_eq!(res.resolv_conf().attempts, 2);
    // Special names need no file and no server (RFC 6761).
    let h = res
        .lookup_hostname("localhost", &LookupOptions::new().ipv6(Ipv6Mode::No))
        .unwrap();
    assert!(h.address.is_loopback());
    let h = res
        .lookup_hostname("app.localhost", &LookupOptions::new().ipv6(Ipv6Mode::Only))
        .unwrap();
    assert!(h.address.is_loopback() && matches!(h.address, sockets::Address::Ipv6(_)));
    assert!(matches!(
        res.lookup_hostname("no-such-host.invalid", &LookupOptions::new()),
        Err(Error::ResolverNoName { .. })
    ));
    assert!(matches!(
        res.lookup_hostname("", &LookupOptions::new()),
        Err(Error::ResolverFail { .. })
    ));
}
