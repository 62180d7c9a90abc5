//! Network-namespace topology tests (custom harness: `ensure_privileges()`
//! must run before any thread exists).
//!
//! Everything happens inside anonymous namespaces created by the code under
//! test; addresses are from 198.51.100.0/24, MACs locally administered.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use oracle::kernel::{self, tcp_state};
use oracle::netns::{CreateOptions, Side, Topology, TopologyConfig};
use oracle::testbench::{Captured, PacketLink, Testbench};
use oracle::userns;

const CHILD_ENV: &str = "PDH_NETNS_TEST_CHILD";
const TB_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const DUT_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_main();
    }
    // Before any thread exists.
    let privilege = userns::ensure_privileges();
    let args = Arguments::from_args();
    let available = match &privilege {
        Ok(p) => {
            eprintln!("netns tests: privilege = {p:?}");
            userns::namespaces_available()
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = &available {
        eprintln!("netns tests: network namespaces unavailable, all tests IGNORED: {why}");
    }
    let tests = vec![
        Trial::test("topology_comes_up", topology_comes_up),
        Trial::test("stack_dut_links_and_silence", stack_dut_links_and_silence),
        Trial::test("arp_reply_and_rst_for_closed_port", arp_and_rst),
        Trial::test("kernel_listener_handshake", kernel_listener_handshake),
        Trial::test("cleanup_after_drop", cleanup_after_drop),
        Trial::test("cleanup_after_sigkill", cleanup_after_sigkill),
        Trial::test("offloads_on_vs_off_measurement", offloads_measurement),
        Trial::test(
            "sweep_stale_inside_a_namespace",
            sweep_stale_inside_a_namespace,
        ),
    ]
    .into_iter()
    .map(|t| t.with_ignored_flag(available.is_err()))
    .collect();
    libtest_mimic::run(&args, tests).exit();
}

/// Child of `cleanup_after_sigkill`: builds a topology, reports its namespace
/// inodes and waits to be killed.
fn child_main() -> ! {
    let r = userns::ensure_privileges()
        .and_then(|_| Topology::create(&TopologyConfig::linux_dut()))
        .and_then(|t| {
            let tb = t.ns_inode(Side::Testbench)?;
            let dut = t.ns_inode(Side::Dut)?;
            Ok((t, tb, dut))
        });
    match r {
        Ok((topo, tb, dut)) => {
            println!("READY {tb} {dut} {}", topo.tb_ifname());
            use std::io::Write;
            std::io::stdout().flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Err(e) => {
            println!("ERROR {e}");
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------
// helpers

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(Failed::from(format!($($fmt)+)));
        }
    };
}

fn f<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Failed + '_ {
    move |e| Failed::from(format!("{what}: {e}"))
}

fn host_ifaces() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn run_netns_entries() -> BTreeSet<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn read_host(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Every place under /proc that references network namespace `ino`
/// (open fds and thread namespaces of all processes we may inspect).
fn ns_references(ino: u64) -> Vec<String> {
    let needle = format!("net:[{ino}]");
    let mut hits = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return hits;
    };
    for p in procs.flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let mut links = Vec::new();
        if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            links.extend(fds.flatten().map(|e| e.path()));
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            links.extend(tasks.flatten().map(|t| t.path().join("ns/net")));
        }
        for l in links {
            if let Ok(t) = std::fs::read_link(&l) {
                if t.to_string_lossy() == needle {
                    hits.push(l.display().to_string());
                }
            }
        }
    }
    hits
}

// --- frame building -------------------------------------------------------

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(14 + payload.len());
    v.extend_from_slice(&dst);
    v.extend_from_slice(&src);
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn arp_request(sha: [u8; 6], spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
    let mut a = Vec::with_capacity(28);
    a.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa.octets());
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&tpa.octets());
    eth([0xff; 6], sha, 0x0806, &a)
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    h[6] = 0x40; // DF
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = csum_fold(csum_add(0, &h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut s = csum_add(0, &src.octets());
    s = csum_add(s, &dst.octets());
    s + u32::from(proto) + len as u32
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

#[allow(clippy::too_many_arguments)]
fn tcp_frame(
    src: ([u8; 6], Ipv4Addr, u16),
    dst: ([u8; 6], Ipv4Addr, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let hl = 20 + options.len();
    let mut t = vec![0u8; hl];
    t[0..2].copy_from_slice(&src.2.to_be_bytes());
    t[2..4].copy_from_slice(&dst.2.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = ((hl / 4) as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&window.to_be_bytes());
    t[20..].copy_from_slice(options);
    t.extend_from_slice(payload);
    let s = csum_add(pseudo_sum(src.1, dst.1, 6, t.len()), &t);
    let c = csum_fold(s);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    eth(dst.0, src.0, 0x0800, &ipv4(src.1, dst.1, 6, &t))
}

/// A parsed TCP/IPv4 frame.
#[derive(Debug)]
struct Tcp {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: Vec<u8>,
    ip_csum_ok: bool,
    tcp_csum_ok: bool,
    frame_len: usize,
}

fn parse_tcp(frame: &[u8]) -> Option<Tcp> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let tot = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ip[9] != 6 || tot > ip.len() || tot < ihl + 20 {
        return None;
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let t = &ip[ihl..tot];
    let doff = usize::from(t[12] >> 4) * 4;
    Some(Tcp {
        src,
        dst,
        sport: u16::from_be_bytes([t[0], t[1]]),
        dport: u16::from_be_bytes([t[2], t[3]]),
        seq: u32::from_be_bytes(t[4..8].try_into().unwrap()),
        ack: u32::from_be_bytes(t[8..12].try_into().unwrap()),
        flags: t[13],
        payload: t[doff.min(t.len())..].to_vec(),
        ip_csum_ok: csum_fold(csum_add(0, &ip[..ihl])) == 0,
        tcp_csum_ok: csum_fold(csum_add(pseudo_sum(src, dst, 6, t.len()), t)) == 0,
        frame_len: frame.len(),
    })
}

/// Waits for the first captured frame satisfying `pred`, skipping others.
fn wait_for<T>(
    tb: &mut Testbench,
    timeout: Duration,
    mut pred: impl FnMut(&Captured) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let c = tb.recv_timeout(left)?;
        if let Some(t) = pred(&c) {
            return Some(t);
        }
    }
}

// ---------------------------------------------------------------------------
// tests

fn topology_comes_up() -> Result<(), Failed> {
    let host_before = host_ifaces();
    let host_ipv6 = read_host("/proc/sys/net/ipv6/conf/all/disable_ipv6");
    let host_ttl = read_host("/proc/sys/net/ipv4/ip_default_ttl");
    let host_cc = read_host("/proc/sys/net/ipv4/tcp_congestion_control");
    ensure!(
        host_ttl != "33",
        "host ip_default_ttl is already 33; test would prove nothing"
    );

    let mut cfg = TopologyConfig::linux_dut();
    cfg.mtu = 1400;
    cfg.dut_sysctls = vec![
        ("net/ipv4/ip_default_ttl".into(), "33".into()),
        ("net.ipv4.tcp_congestion_control".into(), "reno".into()),
    ];
    let topo = Topology::create(&cfg).map_err(f("create"))?;
    let (tb_if, dut_if) = (topo.tb_ifname().to_string(), topo.dut_ifname().to_string());
    ensure!(
        tb_if.starts_with("pdh") && dut_if.starts_with("pdh") && tb_if.len() <= 15,
        "bad names {tb_if} {dut_if}"
    );

    for (side, mac) in [(Side::Testbench, cfg.tb_mac), (Side::Dut, cfg.dut_mac)] {
        let st = topo.link_state(side).map_err(f("link_state"))?;
        ensure!(st.up, "{side:?} end not up: {st:?}");
        ensure!(st.mac == mac, "{side:?} MAC {:02x?} != {mac:02x?}", st.mac);
        ensure!(st.mtu == 1400, "{side:?} MTU {} != 1400", st.mtu);
        let off = topo.offloads(side).map_err(f("offloads"))?;
        ensure!(off.all_off(), "{side:?} offloads not all off: {off:?}");
        let ifname = topo.ifname(side).to_string();
        for k in ["all", "default", "lo", ifname.as_str()] {
            let v = topo
                .read_sysctl(side, &format!("net/ipv6/conf/{k}/disable_ipv6"))
                .map_err(f("read disable_ipv6"))?;
            ensure!(v == "1", "{side:?}: net/ipv6/conf/{k}/disable_ipv6 = {v}");
        }
        let lo = topo
            .in_side(side, || oracle::netns::link_state("lo"))
            .map_err(f("in_side"))?
            .map_err(f("lo state"))?;
        ensure!(lo.up, "{side:?}: lo is down");
        // Only lo and our end exist in the namespace.
        let names: BTreeSet<String> = topo
            .in_side(side, oracle::netns::if_names)
            .map_err(f("if_names"))?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        let want: BTreeSet<String> = ["lo".to_string(), ifname.clone()].into();
        ensure!(names == want, "{side:?} namespace has {names:?}");
    }

    // The sysctl writes hit the DUT namespace (read back from a fresh
    // thread), not the testbench namespace and not the host.
    let ttl = topo
        .read_sysctl(Side::Dut, "net/ipv4/ip_default_ttl")
        .map_err(f("ttl"))?;
    ensure!(ttl == "33", "DUT ip_default_ttl = {ttl}");
    let cc = topo
        .read_sysctl(Side::Dut, "net/ipv4/tcp_congestion_control")
        .map_err(f("cc"))?;
    ensure!(cc == "reno", "DUT tcp_congestion_control = {cc}");
    let tb_ttl = topo
        .read_sysctl(Side::Testbench, "net/ipv4/ip_default_ttl")
        .map_err(f("tb ttl"))?;
    ensure!(tb_ttl == "64", "testbench ip_default_ttl = {tb_ttl}");
    ensure!(
        read_host("/proc/sys/net/ipv4/ip_default_ttl") == host_ttl,
        "host ip_default_ttl changed"
    );
    ensure!(
        read_host("/proc/sys/net/ipv4/tcp_congestion_control") == host_cc,
        "host tcp_congestion_control changed"
    );
    ensure!(
        read_host("/proc/sys/net/ipv6/conf/all/disable_ipv6") == host_ipv6,
        "host disable_ipv6 changed"
    );

    // The namespaces are not the host's.
    let host_ns = std::fs::read_link("/proc/thread-self/ns/net").map_err(f("readlink"))?;
    for side in [Side::Testbench, Side::Dut] {
        let ino = topo.ns_inode(side).map_err(f("ns_inode"))?;
        ensure!(
            host_ns.to_string_lossy() != format!("net:[{ino}]"),
            "{side:?} namespace is the host namespace"
        );
    }
    ensure!(
        topo.ns_inode(Side::Testbench).unwrap() != topo.ns_inode(Side::Dut).unwrap(),
        "testbench and DUT share a namespace"
    );

    let host_after = host_ifaces();
    ensure!(
        host_before == host_after,
        "host interfaces changed: {host_before:?} -> {host_after:?}"
    );
    ensure!(
        !host_after.iter().any(|n| n.starts_with("pdh")),
        "pdh* in host namespace: {host_after:?}"
    );
    eprintln!(
        "  topology_comes_up: {tb_if} <-> {dut_if}: up, MTU 1400, MACs ok, offloads off \
         (tso/gso/gro/sg/tx/rx csum), IPv6 off, DUT ttl=33 cc=reno, host unchanged"
    );
    Ok(())
}

fn stack_dut_links_and_silence() -> Result<(), Failed> {
    let cfg = TopologyConfig::stack_dut();
    let topo = Topology::create(&cfg).map_err(f("create"))?;
    let mut tb = Testbench::open(&topo).map_err(f("open testbench"))?;
    let mut dut = PacketLink::open(&topo, Side::Dut).map_err(f("open DUT link"))?;

    // Nothing at all arrives by itself (no IPv6 DAD/RS/MLD, no ARP).
    std::thread::sleep(Duration::from_millis(300));
    let stray_tb = tb.drain();
    let stray_dut = dut.drain();
    ensure!(
        stray_tb.is_empty() && stray_dut.is_empty(),
        "unexpected frames: tb {stray_tb:?} dut {stray_dut:?}"
    );

    // DUT link -> testbench, and the sender does not read its own frame.
    let f1 = eth(cfg.tb_mac, cfg.dut_mac, 0x88b5, b"from the stack DUT");
    dut.send(&f1).map_err(f("dut send"))?;
    let got = tb
        .recv_timeout(Duration::from_secs(2))
        .ok_or("testbench got nothing")?;
    ensure!(got.bytes == f1, "testbench got {:02x?}", got.bytes);
    // testbench -> DUT link.
    let f2 = eth(cfg.dut_mac, cfg.tb_mac, 0x88b5, b"from the testbench");
    tb.send(&f2).map_err(f("tb send"))?;
    let got = dut
        .recv_timeout(Duration::from_secs(2))
        .ok_or("DUT link got nothing")?;
    ensure!(got.bytes == f2, "DUT link got {:02x?}", got.bytes);

    // The kernel owns no address in the DUT namespace: an ARP request for
    // the stack's IP gets no kernel reply (only the stack could answer).
    tb.send(&arp_request(cfg.tb_mac, TB_IP, DUT_IP))
        .map_err(f("arp send"))?;
    let on_dut = dut
        .recv_timeout(Duration::from_secs(2))
        .ok_or("DUT link did not see the ARP request")?;
    ensure!(on_dut.bytes[12..14] == [0x08, 0x06], "not ARP");
    std::thread::sleep(Duration::from_millis(300));
    let echo_tb = tb.drain();
    let echo_dut = dut.drain();
    ensure!(
        echo_tb.is_empty() && echo_dut.is_empty(),
        "own frames read back or kernel replied: tb {echo_tb:?} dut {echo_dut:?}"
    );
    Ok(())
}

fn arp_and_rst() -> Result<(), Failed> {
    let cfg = TopologyConfig::linux_dut();
    let topo = Topology::create(&cfg).map_err(f("create"))?;
    let mut tb = Testbench::open(&topo).map_err(f("open"))?;

    let t0 = Instant::now();
    tb.send(&arp_request(cfg.tb_mac, TB_IP, DUT_IP))
        .map_err(f("send arp"))?;
    let reply = wait_for(&mut tb, Duration::from_secs(2), |c| {
        let b = &c.bytes;
        (b.len() >= 42 && b[12..14] == [0x08, 0x06] && b[20..22] == [0, 2]).then(|| c.clone())
    })
    .ok_or("no ARP reply")?;
    let b = &reply.bytes;
    ensure!(b[0..6] == cfg.tb_mac, "ARP reply to {:02x?}", &b[0..6]);
    ensure!(b[6..12] == cfg.dut_mac, "ARP reply from {:02x?}", &b[6..12]);
    ensure!(b[22..28] == cfg.dut_mac, "sender hw {:02x?}", &b[22..28]);
    ensure!(b[28..32] == DUT_IP.octets(), "sender ip {:?}", &b[28..32]);
    ensure!(b[38..42] == TB_IP.octets(), "target ip {:?}", &b[38..42]);
    eprintln!(
        "  ARP reply after {:?}",
        reply.at.saturating_duration_since(t0)
    );

    let syn = tcp_frame(
        (cfg.tb_mac, TB_IP, 40001),
        (cfg.dut_mac, DUT_IP, 9),
        1000,
        0,
        SYN,
        65535,
        &[2, 4, 0x05, 0xb4],
        &[],
    );
    tb.send(&syn).map_err(f("send syn"))?;
    let rst = wait_for(&mut tb, Duration::from_secs(2), |c| {
        parse_tcp(&c.bytes).filter(|t| t.sport == 9 && t.dport == 40001)
    })
    .ok_or("no reply to SYN on closed port")?;
    ensure!(rst.flags == RST | ACK, "flags {:#04x}", rst.flags);
    ensure!(rst.ack == 1001, "ack {}", rst.ack);
    ensure!(rst.seq == 0, "seq {}", rst.seq);
    ensure!(rst.src == DUT_IP && rst.dst == TB_IP, "{rst:?}");
    ensure!(rst.ip_csum_ok && rst.tcp_csum_ok, "bad checksums {rst:?}");
    Ok(())
}

struct Handshake {
    listener: i32,
    conn: i32,
    /// Next sequence number the testbench sends.
    tb_nxt: u32,
    /// Next sequence number expected from the DUT.
    dut_nxt: u32,
}

fn handshake(
    topo: &Topology,
    cfg: &TopologyConfig,
    tb: &mut Testbench,
    port: u16,
    tb_port: u16,
    check_csum: bool,
) -> Result<Handshake, Failed> {
    let l =
        kernel::socket_in_dut(topo, libc::AF_INET, libc::SOCK_STREAM, 0).map_err(f("socket"))?;
    kernel::setsockopt_int(l, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1).map_err(f("reuse"))?;
    kernel::bind(l, SocketAddrV4::new(DUT_IP, port)).map_err(f("bind"))?;
    kernel::listen(l, 8).map_err(f("listen"))?;
    kernel::set_nonblocking(l, true).map_err(f("nonblock"))?;
    let info = kernel::tcp_info(l).map_err(f("tcp_info"))?;
    ensure!(
        info.tcpi_state == tcp_state::LISTEN,
        "state {}",
        info.tcpi_state
    );
    match kernel::accept(l) {
        Err(e) if e.0 == libc::EAGAIN => {}
        other => return Err(format!("accept before SYN: {other:?}").into()),
    }

    let isn = 0x1000_0000u32;
    let me = (cfg.tb_mac, TB_IP, tb_port);
    let dut = (cfg.dut_mac, DUT_IP, port);
    tb.send(&tcp_frame(
        me,
        dut,
        isn,
        0,
        SYN,
        65535,
        &[2, 4, 0x05, 0xb4],
        &[],
    ))
    .map_err(f("send SYN"))?;
    let synack = wait_for(tb, Duration::from_secs(2), |c| {
        parse_tcp(&c.bytes).filter(|t| t.sport == port && t.dport == tb_port)
    })
    .ok_or("no SYN-ACK")?;
    ensure!(synack.flags == SYN | ACK, "flags {:#04x}", synack.flags);
    ensure!(synack.ack == isn + 1, "ack {} != {}", synack.ack, isn + 1);
    ensure!(
        !check_csum || (synack.ip_csum_ok && synack.tcp_csum_ok),
        "bad checksums {synack:?}"
    );
    let dut_nxt = synack.seq.wrapping_add(1);
    tb.send(&tcp_frame(me, dut, isn + 1, dut_nxt, ACK, 65535, &[], &[]))
        .map_err(f("send ACK"))?;
    ensure!(
        kernel::wait_readable(l, 2000).map_err(f("poll"))?,
        "listener not readable after the handshake"
    );
    let (c, peer) = kernel::accept(l).map_err(f("accept"))?;
    ensure!(
        peer == SocketAddrV4::new(TB_IP, tb_port),
        "peer {peer} is not the testbench"
    );
    let info = kernel::tcp_info(c).map_err(f("tcp_info"))?;
    ensure!(
        info.tcpi_state == tcp_state::ESTABLISHED,
        "accepted socket state {}",
        info.tcpi_state
    );
    ensure!(info.tcpi_snd_cwnd > 0, "cwnd 0");
    Ok(Handshake {
        listener: l,
        conn: c,
        tb_nxt: isn + 1,
        dut_nxt,
    })
}

fn kernel_listener_handshake() -> Result<(), Failed> {
    let cfg = TopologyConfig::linux_dut();
    let topo = Topology::create(&cfg).map_err(f("create"))?;
    let mut tb = Testbench::open(&topo).map_err(f("open"))?;
    let hs = handshake(&topo, &cfg, &mut tb, 8080, 40000, true)?;
    let info = kernel::tcp_info(hs.conn).map_err(f("tcp_info"))?;
    eprintln!(
        "  accepted: state={} snd_mss={} snd_cwnd={} rto={}us",
        info.tcpi_state, info.tcpi_snd_mss, info.tcpi_snd_cwnd, info.tcpi_rto
    );

    // Data both ways, with checksums verified on the DUT's segment (TX
    // checksum offload off means the kernel filled in full checksums).
    let n = kernel::write(hs.conn, b"hello").map_err(f("write"))?;
    ensure!(n == 5, "short write {n}");
    let seg = wait_for(&mut tb, Duration::from_secs(2), |c| {
        parse_tcp(&c.bytes).filter(|t| t.sport == 8080 && !t.payload.is_empty())
    })
    .ok_or("no data segment")?;
    ensure!(seg.payload == b"hello", "payload {:?}", seg.payload);
    ensure!(seg.seq == hs.dut_nxt, "seq {} != {}", seg.seq, hs.dut_nxt);
    ensure!(seg.flags == PSH | ACK, "flags {:#04x}", seg.flags);
    ensure!(seg.ip_csum_ok && seg.tcp_csum_ok, "bad checksums {seg:?}");
    let me = (cfg.tb_mac, TB_IP, 40000);
    let dut = (cfg.dut_mac, DUT_IP, 8080);
    let dut_nxt = hs.dut_nxt + 5;
    tb.send(&tcp_frame(
        me,
        dut,
        hs.tb_nxt,
        dut_nxt,
        PSH | ACK,
        65535,
        &[],
        b"world",
    ))
    .map_err(f("send data"))?;
    ensure!(
        kernel::wait_readable(hs.conn, 2000).map_err(f("poll"))?,
        "no data readable"
    );
    let mut buf = [0u8; 16];
    let n = kernel::read(hs.conn, &mut buf).map_err(f("read"))?;
    ensure!(&buf[..n] == b"world", "read {:?}", &buf[..n]);

    // Close: the kernel sends FIN.
    kernel::shutdown(hs.conn, kernel::Shutdown::Write).map_err(f("shutdown"))?;
    let fin = wait_for(&mut tb, Duration::from_secs(2), |c| {
        parse_tcp(&c.bytes).filter(|t| t.sport == 8080 && t.flags & FIN != 0)
    })
    .ok_or("no FIN")?;
    ensure!(fin.seq == dut_nxt, "FIN seq {}", fin.seq);
    ensure!(
        kernel::so_error(hs.conn).map_err(f("so_error"))?.is_none(),
        "SO_ERROR set"
    );
    kernel::close(hs.conn).map_err(f("close"))?;
    kernel::close(hs.listener).map_err(f("close"))?;
    let e = kernel::close(hs.listener).unwrap_err();
    ensure!(e.name() == "EBADF", "double close gave {e}");
    Ok(())
}

fn cleanup_after_drop() -> Result<(), Failed> {
    let before = host_ifaces();
    let netns_before = run_netns_entries();
    let topo = Topology::create(&TopologyConfig::linux_dut()).map_err(f("create"))?;
    let tb_ino = topo.ns_inode(Side::Testbench).map_err(f("ino"))?;
    let dut_ino = topo.ns_inode(Side::Dut).map_err(f("ino"))?;
    ensure!(
        !ns_references(tb_ino).is_empty(),
        "sanity: the live namespace fd is not visible in /proc"
    );
    // A socket in the DUT namespace must be closed too; show that it is the
    // only other reference.
    let s =
        kernel::socket_in_dut(&topo, libc::AF_INET, libc::SOCK_DGRAM, 0).map_err(f("socket"))?;
    kernel::close(s).map_err(f("close"))?;
    drop(topo);
    let refs: Vec<String> = ns_references(tb_ino)
        .into_iter()
        .chain(ns_references(dut_ino))
        .collect();
    ensure!(refs.is_empty(), "namespaces still referenced: {refs:?}");
    let after = host_ifaces();
    ensure!(
        before == after,
        "host interfaces changed: {before:?} -> {after:?}"
    );
    ensure!(
        !after.iter().any(|n| n.starts_with("pdh")),
        "pdh* in host: {after:?}"
    );
    let netns_after = run_netns_entries();
    ensure!(
        netns_before == netns_after,
        "/run/netns changed: {netns_before:?} -> {netns_after:?}"
    );
    Ok(())
}

fn cleanup_after_sigkill() -> Result<(), Failed> {
    let before = host_ifaces();
    let netns_before = run_netns_entries();
    let exe = std::env::current_exe().map_err(f("current_exe"))?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(f("spawn child"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(f("read child"))?;
    let parts: Vec<&str> = line.split_whitespace().collect();
    if parts.first() != Some(&"READY") || parts.len() != 4 {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("child did not come up: {line:?}").into());
    }
    let inos: Vec<u64> = parts[1..3].iter().map(|s| s.parse().unwrap()).collect();
    let child_fd_refs: Vec<String> = inos.iter().flat_map(|&i| ns_references(i)).collect();
    let pid = child.id();
    let in_child = child_fd_refs
        .iter()
        .any(|r| r.starts_with(&format!("/proc/{pid}/")));
    child.kill().map_err(f("SIGKILL"))?;
    let status = child.wait().map_err(f("wait"))?;
    use std::os::unix::process::ExitStatusExt;
    ensure!(
        status.signal() == Some(libc::SIGKILL),
        "child status {status:?}"
    );
    ensure!(
        in_child,
        "sanity: child's namespace fds not found in /proc/{pid}/fd: {child_fd_refs:?}"
    );
    let refs: Vec<String> = inos.iter().flat_map(|&i| ns_references(i)).collect();
    ensure!(
        refs.is_empty(),
        "namespaces still referenced after SIGKILL: {refs:?}"
    );
    let after = host_ifaces();
    ensure!(
        before == after,
        "host interfaces changed: {before:?} -> {after:?}"
    );
    ensure!(
        !after.iter().any(|n| n.starts_with("pdh")),
        "pdh* in host: {after:?}"
    );
    let netns_after = run_netns_entries();
    ensure!(
        netns_before == netns_after && !netns_after.iter().any(|n| n.starts_with("pdh")),
        "/run/netns changed: {netns_before:?} -> {netns_after:?}"
    );
    eprintln!(
        "  SIGKILLed child {pid} (veth {}): namespaces net:[{}] net:[{}] unreferenced afterwards",
        parts[3], inos[0], inos[1]
    );
    Ok(())
}

/// The kernel writes 14480 bytes (10 * 1448) to the testbench; reports the
/// largest frame and the number of frames with bad TCP checksums.
fn burst(disable_offloads: bool) -> Result<(usize, usize, usize), Failed> {
    let cfg = TopologyConfig::linux_dut();
    let topo =
        Topology::create_with(&cfg, &CreateOptions { disable_offloads }).map_err(f("create"))?;
    let mut tb = Testbench::open(&topo).map_err(f("open"))?;
    let hs = handshake(&topo, &cfg, &mut tb, 8081, 40002, disable_offloads)?;
    let data = vec![0x5a; 14480];
    let n = kernel::write(hs.conn, &data).map_err(f("write"))?;
    ensure!(n == data.len(), "short write {n}");
    let mut got = 0usize;
    let (mut frames, mut max_len, mut bad) = (0, 0, 0);
    while got < data.len() {
        let seg = wait_for(&mut tb, Duration::from_secs(2), |c| {
            parse_tcp(&c.bytes).filter(|t| t.sport == 8081 && !t.payload.is_empty())
        })
        .ok_or_else(|| format!("only {got} of {} bytes arrived", data.len()))?;
        frames += 1;
        max_len = max_len.max(seg.frame_len);
        if !seg.tcp_csum_ok {
            bad += 1;
        }
        got += seg.payload.len();
    }
    kernel::close(hs.conn).map_err(f("close"))?;
    kernel::close(hs.listener).map_err(f("close"))?;
    Ok((frames, max_len, bad))
}

fn offloads_measurement() -> Result<(), Failed> {
    let (on_frames, on_max, on_bad) = burst(false)?;
    let (off_frames, off_max, off_bad) = burst(true)?;
    eprintln!(
        "  14480-byte write: offloads ON: {on_frames} frames, largest {on_max} B, \
         {on_bad} with bad TCP checksum; OFF: {off_frames} frames, largest {off_max} B, \
         {off_bad} bad"
    );
    ensure!(
        off_max <= 1514,
        "offloads off but a {off_max}-byte frame was captured"
    );
    ensure!(
        off_bad == 0,
        "offloads off but {off_bad} frames had bad checksums"
    );
    Ok(())
}

/// `sweep_stale` works on the calling thread's namespace; run it inside the
/// testbench namespace (never on the host) where a `pdh*` link exists.
fn sweep_stale_inside_a_namespace() -> Result<(), Failed> {
    let host_before = host_ifaces();
    let topo = Topology::create(&TopologyConfig::stack_dut()).map_err(f("create"))?;
    let tb_if = topo.tb_ifname().to_string();
    let removed = topo
        .in_testbench(oracle::netns::sweep_stale)
        .map_err(f("in_testbench"))?;
    ensure!(
        removed == vec![format!("link {tb_if}")],
        "sweep_stale removed {removed:?}"
    );
    for side in [Side::Testbench, Side::Dut] {
        let names: Vec<String> = topo
            .in_side(side, oracle::netns::if_names)
            .map_err(f("if_names"))?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        ensure!(
            names == ["lo"],
            "{side:?} still has {names:?} (deleting one veth end removes both)"
        );
    }
    ensure!(host_ifaces() == host_before, "host interfaces changed");
    Ok(())
}
