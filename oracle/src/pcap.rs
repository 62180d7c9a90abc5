//! A pcap file per DUT run, for Wireshark/tshark.
//!
//! Timestamps are the script times (µs since the script started, on the Unix
//! epoch), so the file of a simulated run is byte-for-byte reproducible.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapWriter};

use crate::trace::{Trace, TraceKind};

/// Writes every frame of `trace`, in both directions, to `path`.
pub fn write_pcap(path: &Path, trace: &Trace) -> anyhow::Result<()> {
    let file = File::create(path)?;
    let mut w = PcapWriter::new(BufWriter::new(file))?;
    for e in &trace.events {
        if let TraceKind::Frame { bytes, .. } = &e.kind {
            let ts = Duration::from_micros(e.at.max(0) as u64);
            w.write_packet(&PcapPacket::new(ts, bytes.len() as u32, bytes))?;
        }
    }
    Ok(())
}
