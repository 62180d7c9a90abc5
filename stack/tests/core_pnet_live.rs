//! Live run of the stack on a real interface (feature `pnet`, ignored by
//! default). Used to diff the stack against Linux with the same raw probes:
//! `STACK_IFACE=a STACK_SECS=20 cargo test -p stack --features pnet --test core_pnet_live -- --ignored`
//! runs 198.51.100.2/24 (MAC 02:00:00:00:00:02) with a listener on 8080
//! that accepts connections and never reads.

#![cfg(feature = "pnet")]

use core::net::{Ipv4Addr, SocketAddrV4};
use stack::device::pnet::{run, PnetDevice};
use stack::wire::EthernetAddress;
use stack::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[test]
#[ignore]
fn live_listener() {
    let iface = std::env::var("STACK_IFACE").unwrap_or_else(|_| "a".into());
    let secs: u64 = std::env::var("STACK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let cfg = HostConfig {
        mac: EthernetAddress([2, 0, 0, 0, 0, 2]),
        ipv4: Ipv4Addr::new(198, 51, 100, 2),
        prefix_len: 24,
        gateway: None,
        profile: Profile::linux(),
        static_neighbors: vec![(
            Ipv4Addr::new(198, 51, 100, 1),
            EthernetAddress([2, 0, 0, 0, 0, 1]),
        )],
    };
    let host = Arc::new(Mutex::new(Host::new(cfg, 42)));
    let l = {
        let mut h = host.lock().unwrap();
        let l = h.socket(SocketType::Stream).unwrap();
        h.bind(l, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080))
            .unwrap();
        h.listen(l, 8).unwrap();
        l
    };
    let dev = PnetDevice::open(&iface).expect("open device");
    let stop = Arc::new(AtomicBool::new(false));
    let epoch = std::time::Instant::now();
    let t = {
        let (host, stop) = (host.clone(), stop.clone());
        std::thread::spawn(move || run(host, dev, stop, epoch))
    };
    let end = epoch + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if let Ok(mut h) = host.lock() {
            while h.accept(l).is_ok() {}
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
}
