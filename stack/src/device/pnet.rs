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
    tx: PnetSender,
    rx: Box<dyn DataLinkReceiver>,
}

/// The sending half of a [`PnetDevice`], shared: the driver loop sends what
/// input and timers produce, and a thread making socket calls sends what a
/// call produces before the call returns, as a Linux `write` puts its
/// segments on the wire in the caller's context instead of at the driver
/// loop's next wake-up.
#[derive(Clone)]
pub struct PnetSender(Arc<Mutex<Box<dyn DataLinkSender>>>);

impl PnetSender {
    /// Sends every frame `host` has ready at `now`. The caller holds the
    /// host's lock throughout, so frames two threads send leave in the order
    /// the host produced them.
    pub fn transmit(&self, host: &mut Host, now: Instant) {
        let Ok(mut tx) = self.0.lock() else { return };
        while let Some(f) = host.transmit(now) {
            let _ = tx.send_to(&f, None);
        }
    }
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
            Channel::Ethernet(tx, rx) => Ok(PnetDevice {
                tx: PnetSender(Arc::new(Mutex::new(tx))),
                rx,
            }),
            _ => Err(io::Error::other("unsupported channel type")),
        }
    }

    /// Send one frame.
    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut tx = self
            .tx
            .0
            .lock()
            .map_err(|_| io::Error::other("sender poisoned"))?;
        tx.send_to(frame, None).unwrap_or(Ok(()))
    }

    /// The sending half, for a thread that makes socket calls.
    pub fn sender(&self) -> PnetSender {
        self.tx.clone()
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

fn flush(host: &Arc<Mutex<Host>>, dev: &PnetDevice, now: Instant) {
    let Ok(mut h) = host.lock() else { return };
    dev.tx.transmit(&mut h, now);
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
        flush(&host, &dev, now);
        // Wake at least every millisecond: socket calls made from other
        // threads that do not send their output themselves (with a
        // [`PnetSender`]) leave it for this loop.
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
            flush(&host, &dev, now);
        }
    }
}
