//! Puts the stack on a network interface as an ordinary host and serves echo
//! (RFC 862) over TCP and UDP, so that real clients (Linux's ping, kernel
//! sockets) can talk to it.
//!
//! ```sh
//! stack-echo-host IFACE ADDR/PREFIX [--gateway IP] [--port N] [--seconds N]
//! ```
//!
//! Run it as root inside a network namespace whose interface IFACE carries
//! no kernel address (the kernel would answer too); it prints `ready` once
//! it serves. The stack takes the interface's MAC, announces its address
//! (gratuitous ARP), answers ARP and ICMP echo, echoes every TCP connection
//! and every UDP datagram on the port (default 7), until killed or for
//! `--seconds`. Use addresses of your own test network only (the harness
//! uses 198.51.100.0/24).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallInstant};

use anyhow::{bail, Context, Result};
use stack::device::pnet::PnetDevice;
use stack::time::Instant;
use stack::wire::EthernetAddress;
use stack::{Errno, Fd, Host, HostConfig, Profile, SockOpt, SocketType};

struct Args {
    iface: String,
    addr: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
    port: u16,
    seconds: Option<u64>,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: stack-echo-host IFACE ADDR/PREFIX [--gateway IP] [--port N] [--seconds N]";
    let iface = it.next().context(usage)?;
    let cidr = it.next().context(usage)?;
    let (a, p) = cidr
        .split_once('/')
        .context("ADDR/PREFIX, e.g. 198.51.100.2/24")?;
    let mut args = Args {
        iface,
        addr: a.parse().context("address")?,
        prefix: p.parse().context("prefix length")?,
        gateway: None,
        port: 7,
        seconds: None,
    };
    if args.prefix > 32 {
        bail!("prefix length {} > 32", args.prefix);
    }
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--gateway" => args.gateway = Some(v.parse().context("gateway")?),
            "--port" => args.port = v.parse().context("port")?,
            "--seconds" => args.seconds = Some(v.parse().context("seconds")?),
            _ => bail!("unknown option {flag}\n{usage}"),
        }
    }
    Ok(args)
}

/// One echoed TCP connection: what was read and not yet accepted by send().
struct Conn {
    fd: Fd,
    unsent: Vec<u8>,
    eof: bool,
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let mac = pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.name == args.iface)
        .and_then(|i| i.mac)
        .with_context(|| format!("no interface {} with a MAC address", args.iface))?;
    let dev = PnetDevice::open(&args.iface).context("opening the AF_PACKET device")?;
    let config = HostConfig {
        mac: EthernetAddress(mac.octets()),
        ipv4: args.addr,
        prefix_len: args.prefix,
        gateway: args.gateway,
        profile: Profile::linux(),
        static_neighbors: Vec::new(),
    };
    let seed = std::process::id().into();
    let host = Arc::new(Mutex::new(Host::new(config, seed)));
    let epoch = WallInstant::now();
    let now = || Instant::from_micros(epoch.elapsed().as_micros() as i64);
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, args.port);
    let (listener, udp) = {
        let mut h = host.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        h.interface_up(now());
        let l = h.socket(SocketType::Stream).map_err(errno)?;
        h.setsockopt(l, SockOpt::ReuseAddr, 1).map_err(errno)?;
        h.bind(l, any).map_err(errno)?;
        h.listen(l, 64).map_err(errno)?;
        let u = h.socket(SocketType::Dgram).map_err(errno)?;
        h.udp_bind(u, any).map_err(errno)?;
        (l, u)
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (host, stop) = (host.clone(), stop.clone());
        std::thread::spawn(move || stack::device::pnet::run(host, dev, stop, epoch));
    }
    println!("ready");
    let end = args
        .seconds
        .map(|s| WallInstant::now() + Duration::from_secs(s));
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while end.is_none_or(|e| WallInstant::now() < e) {
        std::thread::sleep(Duration::from_millis(1));
        let Ok(mut h) = host.lock() else { break };
        let t = now();
        while let Ok((fd, _)) = h.accept(listener) {
            conns.push(Conn {
                fd,
                unsent: Vec::new(),
                eof: false,
            });
        }
        for c in &mut conns {
            if !c.unsent.is_empty() {
                match h.send(t, c.fd, &c.unsent) {
                    Ok(n) => {
                        c.unsent.drain(..n);
                    }
                    Err(Errno::EAGAIN) => continue,
                    Err(_) => c.eof = true,
                }
            }
            // Read only what can be echoed right away (back-pressure).
            while c.unsent.is_empty() && !c.eof {
                match h.recv(t, c.fd, &mut buf) {
                    Ok(0) => c.eof = true,
                    Ok(n) => match h.send(t, c.fd, &buf[..n]) {
                        Ok(m) => c.unsent.extend_from_slice(&buf[m..n]),
                        Err(Errno::EAGAIN) => c.unsent.extend_from_slice(&buf[..n]),
                        Err(_) => c.eof = true,
                    },
                    Err(Errno::EAGAIN) => break,
                    Err(_) => c.eof = true,
                }
            }
        }
        conns.retain(|c| {
            let done = c.eof && c.unsent.is_empty();
            if done {
                let _ = h.close(t, c.fd);
            }
            !done
        });
        while let Ok((n, from)) = h.udp_recvfrom(udp, &mut buf) {
            let _ = h.udp_sendto(t, udp, &buf[..n], Some(from));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

fn errno(e: Errno) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
