//! The fuzz targets' logic, as plain functions: the cargo-fuzz binaries in
//! `fuzz_targets/` call them, and `tests/replay.rs` replays every committed
//! corpus input (`corpus/fuzz/<target>/`) through them under `cargo test`, so
//! regressions are caught on stable without a fuzzer.
//!
//! Every target checks meaning, not only survival: a panic is a finding, and
//! so is a broken invariant (an assertion here).

use stack::wire::{ChecksumMode, FrameRepr};

/// `parse_frame`: any bytes through every wire parser (the frame parser
/// dispatches to Ethernet, ARP, IPv4, ICMPv4, UDP and TCP). A frame that
/// parses must re-emit to bytes that parse to the same representation
/// (`emit ∘ parse` is the identity on what `parse` accepts).
pub fn parse_frame(data: &[u8]) {
    for mode in [ChecksumMode::Verify, ChecksumMode::Ignore] {
        let Ok(repr) = FrameRepr::parse_with(data, mode) else {
            continue;
        };
        let bytes = repr.to_vec();
        assert_eq!(bytes.len(), repr.buffer_len());
        let again =
            FrameRepr::parse(&bytes).expect("an emitted frame must parse, checksums included");
        assert_eq!(again, repr, "emit then parse changed the frame");
        // Formatting never panics either.
        let _ = repr.to_string();
    }
}

/// `script_parse`: any text through the script parser. It must not panic,
/// and a script that parses must print (its events in script syntax) without
/// panicking.
pub fn script_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(script) = oracle::script::parse("fuzz.pkt", text) {
        for e in &script.events {
            let _ = e.to_string();
        }
    }
}
