//! `stack_pair`: two stack hosts talking over an in-memory link whose
//! losses, duplicates, reorderings and delays the input decides, with an
//! application on each end: the client writes a pattern and closes, the
//! server reads until end of stream and closes. A reliability oracle for
//! the whole sending and receiving side (RFC 9293 3.1: "reliable ...
//! in-order delivery"), loss recovery and congestion control included.
//!
//! # Input layout
//! - byte 0: profile (bit 0: `Profile::rfc()` instead of `linux()`; bit 1:
//!   no SACK; bit 2: no timestamps; bit 3: no window scaling; bits 4-5:
//!   buffer size 4 KiB · 4^k; bit 6, with `linux()`: the send buffer
//!   accounted for as Linux does, `Profile::send_memory`, from a first
//!   sk_sndbuf of that size);
//! - bytes 1-2: bytes to transfer (little endian, at most 65535);
//! - byte 3: the client's write size (1 + 64 · b);
//! - then one byte per frame put on the link, in order, until the input
//!   ends: 0-159 delivered after the base one-way delay, 160-199 lost,
//!   200-219 duplicated, 220-255 delayed by (b − 219) · 7 ms more
//!   (reordered). Once the input is used up every frame is delivered: the
//!   connection must then finish.
//!
//! # Oracle
//! - every byte the server reads equals the byte written at that offset
//!   (no corruption, no reordering, no duplication reaches the application);
//! - unless a side reports an error (ETIMEDOUT after the retries, RFC 9293
//!   3.8.3), the server reads exactly what was written, then end of stream,
//!   within the simulated time bound;
//! - the invariants the hosts' own debug assertions hold.

use arbitrary::Unstructured;
use core::net::{Ipv4Addr, SocketAddrV4};
use stack::wire::EthernetAddress;
use stack::{Errno, Host, HostConfig, Instant, Profile, SocketType};
use std::collections::BTreeMap;

const A_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const PORT: u16 = 8080;
/// One-way delay of the link.
const DELAY_US: i64 = 10_000;
/// Simulated time, counted from when the input ran out (every frame is
/// delivered from then on), after which a transfer that has not finished
/// is a finding: one RTO at its 120 s maximum, a persist probe at its
/// maximum, and the rest of at most 64 KiB through a clean link fit well
/// within it. While the input lasts there is no bound: each retransmission
/// the input loses consumes a byte of it.
const BOUND_US: i64 = 600 * 1_000_000;

fn byte_at(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 8)) as u8
}

struct Link {
    /// (delivery time, sequence) → (to B?, frame)
    queue: BTreeMap<(i64, u64), (bool, Vec<u8>)>,
    seq: u64,
}

impl Link {
    fn push(&mut self, at: i64, to_b: bool, frame: Vec<u8>) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (to_b, frame));
    }
}

fn config(ip: Ipv4Addr, mac: u8, profile: &Profile) -> HostConfig {
    HostConfig {
        mac: EthernetAddress([2, 0, 0, 0, 0, mac]),
        ipv4: ip,
        prefix_len: 24,
        gateway: None,
        profile: profile.clone(),
        static_neighbors: Vec::new(),
    }
}

/// Runs one input; panics on a broken oracle.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let flags: u8 = u.arbitrary().unwrap_or(0);
    let total: u16 = u.arbitrary().unwrap_or(3000);
    let total = usize::from(total);
    let chunk = 1 + 64 * usize::from(u.arbitrary::<u8>().unwrap_or(20));
    let base = if flags & 1 != 0 {
        Profile::rfc()
    } else {
        Profile::linux()
    };
    let buf = 4096usize << (2 * ((flags >> 4) & 3));
    let profile = Profile {
        sack: flags & 2 == 0,
        timestamps: flags & 4 == 0,
        window_scaling: flags & 8 == 0,
        send_buffer: buf,
        recv_buffer: buf,
        // Linux's send memory (sk_sndbuf, skbs) on bit 6, else `buf` bytes.
        send_memory: base.send_memory && flags & 0x40 != 0,
        ..base
    };
    let mut a = Host::new(config(A_IP, 1, &profile), 1);
    let mut b = Host::new(config(B_IP, 2, &profile), 2);
    let listener = b.socket(SocketType::Stream).expect("socket");
    b.bind(listener, SocketAddrV4::new(B_IP, PORT))
        .expect("bind");
    b.listen(listener, 1).expect("listen");
    let cfd = a.socket(SocketType::Stream).expect("socket");
    let t0 = Instant::ZERO;
    match a.connect(t0, cfd, SocketAddrV4::new(B_IP, PORT)) {
        Ok(()) | Err(Errno::EINPROGRESS) => {}
        Err(e) => panic!("stack_pair: connect: {e:?}"),
    }

    let mut link = Link {
        queue: BTreeMap::new(),
        seq: 0,
    };
    let mut now = t0;
    let mut sfd = None;
    let mut written = 0usize;
    let mut read = 0usize;
    let mut client_closed = false;
    let mut server_eof = false;
    let mut failed = None;
    let mut scratch = vec![0u8; 65536];
    let mut idle_rounds = 0u32;
    let trace = std::env::var_os("STACK_PAIR_TRACE").is_some();
    let mut rounds = 0u64;
    let mut exhausted_at: Option<i64> = None;
    loop {
        rounds += 1;
        // Deliver what is due.
        let due: Vec<(i64, u64)> = link
            .queue
            .range(..=(now.total_micros(), u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some((to_b, f)) = link.queue.remove(&k) {
                if to_b {
                    b.receive(now, &f);
                } else {
                    a.receive(now, &f);
                }
            }
        }
        // Applications.
        if sfd.is_none() {
            match b.accept(listener) {
                Ok((fd, _)) => sfd = Some(fd),
                Err(Errno::EAGAIN) => {}
                Err(e) => panic!("stack_pair: accept: {e:?}"),
            }
        }
        if let Some(fd) = sfd {
            while !server_eof {
                match b.recv(now, fd, &mut scratch) {
                    Ok(0) => {
                        server_eof = true;
                        let _ = b.close(now, fd);
                    }
                    Ok(n) => {
                        for (i, &x) in scratch[..n].iter().enumerate() {
                            assert_eq!(
                                x,
                                byte_at(read + i),
                                "stack_pair: byte {} read wrong",
                                read + i
                            );
                        }
                        read += n;
                        assert!(
                            read <= written,
                            "stack_pair: read {read} > written {written}"
                        );
                    }
                    Err(Errno::EAGAIN) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
        if !client_closed {
            while written < total {
                let n = chunk.min(total - written);
                let data: Vec<u8> = (written..written + n).map(byte_at).collect();
                match a.send(now, cfd, &data) {
                    Ok(k) => written += k,
                    Err(Errno::EAGAIN | Errno::ENOTCONN) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if written == total && a.tcp_state(cfd).is_some_and(|s| s.is_synchronized()) {
                let _ = a.close(now, cfd);
                client_closed = true;
            }
        }
        if let Some(e) = a.take_error(cfd).or(a.readiness(cfd).error) {
            failed.get_or_insert(e);
        }
        if !client_closed && a.tcp_state(cfd) == Some(stack::TcpState::Closed) {
            // The connection ended before we closed it (ARP or the
            // handshake gave up): the error was reported to the caller.
            failed.get_or_insert(Errno::ETIMEDOUT);
        }
        if client_closed && a.connection_count() == 0 && !server_eof {
            // The orphaned client connection gave up (RFC 9293 3.8.3 R2:
            // retransmissions exhausted) after close(): nobody is told,
            // the server waits for ever, as with Linux.
            failed.get_or_insert(Errno::ETIMEDOUT);
        }
        if failed.is_some() || (server_eof && read == total) {
            break;
        }
        // Frames onto the link, each as the input decides.
        let mut sent_any = false;
        for (from_a, host) in [(true, &mut a), (false, &mut b)] {
            while let Some(f) = host.transmit(now) {
                sent_any = true;
                if u.is_empty() {
                    exhausted_at.get_or_insert(now.total_micros());
                }
                let d: u8 = u.arbitrary().unwrap_or(0);
                if trace {
                    let what = match stack::wire::FrameRepr::parse(&f) {
                        Ok(r) => r.to_string(),
                        Err(e) => format!("unparsable: {e:?}"),
                    };
                    eprintln!(
                        "{:>12} µs {} {what} [{}]",
                        now.total_micros(),
                        if from_a { "A>" } else { "<B" },
                        match d {
                            0..=159 => "delivered".to_string(),
                            160..=199 => "LOST".to_string(),
                            200..=219 => "duplicated".to_string(),
                            _ => format!("+{} ms", u32::from(d - 219) * 7),
                        }
                    );
                }
                let at = now.total_micros() + DELAY_US;
                match d {
                    0..=159 => link.push(at, from_a, f),
                    160..=199 => {}
                    200..=219 => {
                        link.push(at, from_a, f.clone());
                        link.push(at + 1, from_a, f);
                    }
                    _ => link.push(at + i64::from(d - 219) * 7_000, from_a, f),
                }
            }
        }
        // Next event.
        let next = [
            link.queue.keys().next().map(|k| k.0),
            a.poll_at().map(|t| t.total_micros()),
            b.poll_at().map(|t| t.total_micros()),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            let gave_up = if client_closed {
                a.connection_count() == 0 && !server_eof
            } else {
                a.tcp_state(cfd) == Some(stack::TcpState::Closed)
            };
            if gave_up {
                // Gave up (ARP, the handshake, or the orphaned connection's
                // retransmissions) in the last step.
                failed.get_or_insert(Errno::ETIMEDOUT);
                break;
            }
            panic!(
                "stack_pair: nothing left to do at {} µs, read {read} of {total} (client {:?}, server {:?})",
                now.total_micros(),
                a.tcp_state(cfd),
                sfd.and_then(|fd| b.tcp_state(fd))
            );
        };
        if next <= now.total_micros() {
            idle_rounds = if sent_any { 0 } else { idle_rounds + 1 };
            assert!(
                idle_rounds < 10_000,
                "stack_pair: stuck at {} µs",
                now.total_micros()
            );
        } else {
            idle_rounds = 0;
            now = Instant::from_micros(next);
        }
        assert!(
            exhausted_at.is_none_or(|t| now.total_micros() - t < BOUND_US),
            "stack_pair: transfer unfinished {} s after the link became clean: read {read} of {total} (client {:?}, server {:?})",
            BOUND_US / 1_000_000,
            a.connections().map(|(_, t)| t.state).collect::<Vec<_>>(),
            sfd.and_then(|fd| b.tcp_state(fd))
        );
    }
    if trace {
        eprintln!(
            "{rounds} rounds, {} µs, read {read} of {total}, failed {failed:?}",
            now.total_micros()
        );
    }
    if failed.is_none() {
        assert_eq!(read, total, "stack_pair: read {read} of {total}");
    }
}
