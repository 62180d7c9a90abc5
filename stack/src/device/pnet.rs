//! An AF_PACKET device (via `pnet_datalink`) and a real-time driver loop.

use crate::iface::Host;
use crate::time::Instant;
use pnet_datalink::{Channel, DataLinkReceiver, DataLinkSender};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A raw Ethernet device bound to one interface.
pub struct PnetDevice {
    tx: Box<dyn DataLinkSender>,
    rx: Box<dyn DataLinkReceiver>,
}

impl PnetDevice {
    /// Open `ifname` (needs CAP_NET_RAW).
    pub fn open(ifname: &str) -> io::Result<Self> {
        let iface = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == ifname)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no interface {ifname}"))
            })?;
        let cfg = pnet_datalink::Config {
            read_timeout: Some(Duration::from_millis(1)),
            // Room for a TSO packet a testbench injects whole (64 KiB).
            read_buffer_size: 65_600,
            promiscuous: true,
            ..Default::default()
        };
        match pnet_datalink::channel(&iface, cfg)? {
            Channel::Ethernet(tx, rx) => Ok(PnetDevice { tx, rx }),
            _ => Err(io::Error::other("unsupported channel type")),
        }
    }

    /// Send one frame.
    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.tx.send_to(frame, None).unwrap_or(Ok(()))
    }

    /// Receive one frame, waiting at most `timeout`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.rx.next() {
                Ok(f) => return Some(f.to_vec()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return None,
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
        }
    }
}

/// Longest the driver sleeps between flushes.
const MAX_WAIT: Duration = Duration::from_millis(1);

fn stack_now(epoch: std::time::Instant) -> Instant {
    Instant::from_micros(epoch.elapsed().as_micros().min(i64::MAX as u128) as i64)
}

fn flush(host: &Arc<Mutex<Host>>, dev: &mut PnetDevice, now: Instant) {
    let frames: Vec<Vec<u8>> = {
        let Ok(mut h) = host.lock() else { return };
        std::iter::from_fn(|| h.transmit(now)).collect()
    };
    for f in frames {
        let _ = dev.send(&f);
    }
}

/// Drive `host` over `dev` in real time until `stop` is set: wall time since
/// `epoch` maps to stack instants (microseconds); received frames are fed in
/// (frames with our own source MAC — AF_PACKET echoes outgoing frames on some
/// setups — are ignored); `transmit` is flushed after every input and at
/// every `poll_at` deadline.
pub fn run(
    host: Arc<Mutex<Host>>,
    mut dev: PnetDevice,
    stop: Arc<AtomicBool>,
    epoch: std::time::Instant,
) {
    let own_mac = match host.lock() {
        Ok(h) => h.config().mac,
        Err(_) => return,
    };
    while !stop.load(Ordering::Relaxed) {
        let now = stack_now(epoch);
        flush(&host, &mut dev, now);
        // Wake at least every millisecond: socket calls made from other
        // threads queue output that only this loop sends.
        let wait = {
            let Ok(h) = host.lock() else { return };
            match h.poll_at() {
                Some(t) if t > now => Duration::from_micros((t - now).total_micros() as u64),
                Some(_) => Duration::ZERO,
                None => MAX_WAIT,
            }
        }
        .min(MAX_WAIT);
        if let Some(frame) = dev.recv_timeout(wait) {
            if frame.get(6..12) == Some(own_mac.as_bytes().as_slice()) {
                continue;
            }
            let now = stack_now(epoch);
            if let Ok(mut h) = host.lock() {
                h.receive(now, &frame);
            }
            flush(&host, &mut dev, now);
        }
    }
}
