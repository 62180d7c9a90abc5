//! Replays every committed corpus input of every target (plus every crash
//! reproducer under `corpus/fuzz/<target>/regressions/`) through the target
//! functions, on stable, as an ordinary test.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/fuzz")
        .join(target);
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no corpus for {target} under {}",
        dir.display()
    );
    out
}

fn replay(target: &str, f: fn(&[u8])) {
    let files = inputs(target);
    for p in &files {
        let data = std::fs::read(p).expect("read corpus file");
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "{target}: {} fails", p.display());
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

#[test]
fn parse_frame_corpus() {
    replay("parse_frame", fuzz::parse_frame);
}

#[test]
fn script_parse_corpus() {
    replay("script_parse", fuzz::script_parse);
}

#[test]
fn host_input_corpus() {
    replay("host_input", fuzz::host_input);
}

#[test]
fn stack_pair_corpus() {
    replay("stack_pair", fuzz::stack_pair);
}

#[test]
fn tcp_input_corpus() {
    replay("tcp_input", fuzz::tcp_input);
}

// ------------------------------------------------------------ tcp_input seeds
//
// The seed corpus of `tcp_input` is generated from these structured inputs
// (`Seed` writes the bytes the target's decoder reads back): run
// `cargo test -p fuzz --test replay -- --ignored write_tcp_input_seeds` to
// rewrite `corpus/fuzz/tcp_input/seed-*`. `tcp_input_seeds_reach_their_states`
// checks that every seed's setup reaches the state it is named for.

mod seeds {
    use fuzz::tcp_target::Seed;
    use stack::TcpState;

    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;
    const PSH: u8 = 0x08;
    const ACK: u8 = 0x10;
    /// MSS, window scale 7, SACK-permitted, timestamps.
    const ALL: u8 = 0x7f;
    /// MSS, window scale 7, SACK-permitted, no timestamps.
    const NO_TS: u8 = 0x77;

    pub fn all() -> Vec<(&'static str, Seed, TcpState)> {
        use TcpState::*;
        vec![
            (
                "listen-handshake-data",
                Seed::new(0, false, false, ALL, 1460, 502)
                    .seg(SYN, 0, 0, 64240, 0, true)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .user(5, 0)
                    .user(0, 3000)
                    .seg(ACK | PSH, 0, 0, 502, 100, true)
                    .user(1, 0)
                    .clock(20)
                    .user(3, 0),
                Listen,
            ),
            (
                "listen-ack-and-rst",
                Seed::new(0, false, false, 0, 0, 1000)
                    .seg(ACK, 0, 5, 1000, 0, false)
                    .seg(RST, 0, 0, 0, 0, false)
                    .seg(SYN | FIN, 0, 0, 1000, 10, false)
                    .clock(255),
                Listen,
            ),
            (
                "syn-sent-synack-data",
                Seed::new(1, true, false, ALL, 1460, 502)
                    .seg(SYN | ACK, 0, 0, 65535, 0, true)
                    .user(0, 5000)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .clock(5),
                SynSent,
            ),
            (
                "syn-sent-timeout",
                Seed::new(1, true, false, ALL, 1460, 502)
                    .clock(255)
                    .clock(255),
                SynSent,
            ),
            (
                "syn-sent-bad-ack-refused",
                Seed::new(1, true, false, NO_TS, 1460, 502)
                    .seg(SYN | ACK, 0, 5, 502, 0, false)
                    .seg(RST | ACK, 0, 0, 0, 0, false)
                    .user(0, 10),
                SynSent,
            ),
            (
                "syn-received-ack-data",
                Seed::new(2, false, false, ALL, 1460, 502)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .user(5, 0)
                    .seg(ACK | PSH, 0, 0, 502, 1000, true)
                    .user(1, 0)
                    .user(3, 0),
                SynReceived,
            ),
            (
                "syn-received-simultaneous",
                Seed::new(2, true, false, NO_TS, 1460, 502)
                    .seg(ACK, 0, 0, 502, 0, false)
                    .user(0, 100)
                    .clock(10),
                SynReceived,
            ),
            (
                "syn-received-rst-and-synack-rtx",
                Seed::new(2, false, false, ALL, 1460, 502)
                    .clock(110)
                    .seg(RST, 0, 0, 0, 0, false),
                SynReceived,
            ),
            (
                "established-bulk",
                Seed::new(3, true, false, ALL, 1460, 502)
                    .user(0, 10000)
                    .clock(1)
                    .seg(ACK, 0, -40, 502, 0, true)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .seg(ACK | PSH, 0, 0, 502, 1448, true)
                    .user(1, 0)
                    .user(3, 0)
                    .seg(FIN | ACK, 0, 0, 502, 0, true),
                Established,
            ),
            (
                "established-no-options",
                Seed::new(3, false, false, 0, 0, 8192)
                    .user(0, 2000)
                    .seg(ACK, 0, 0, 8192, 536, false)
                    .clock(10)
                    .user(1, 0)
                    .user(2, 0)
                    .seg(FIN | ACK, 0, 0, 8192, 0, false),
                Established,
            ),
            (
                "established-out-of-order",
                Seed::new(3, false, false, ALL, 1460, 502)
                    .seg(ACK, 10, 0, 502, 1000, true)
                    .seg(ACK, 0, 0, 502, 10, true)
                    .seg(ACK, -5, 0, 502, 20, true)
                    .user(1, 0),
                Established,
            ),
            (
                "established-rst-challenge",
                Seed::new(3, true, false, ALL, 1460, 502)
                    .seg(RST, 5, 0, 0, 0, false)
                    .seg(SYN, 0, 0, 502, 0, true)
                    .seg(RST, 0, 0, 0, 0, false)
                    .user(0, 10),
                Established,
            ),
            (
                "established-zero-window",
                Seed::new(3, true, false, NO_TS, 1460, 0)
                    .user(0, 3000)
                    .clock(200)
                    .clock(240)
                    .seg(ACK, 0, 0, 4000, 0, false)
                    .clock(5),
                Established,
            ),
            (
                "established-linger-zero",
                Seed::new(3, false, false, ALL, 1460, 502)
                    .user(4, 0)
                    .user(3, 0)
                    .seg(ACK, 0, 0, 502, 0, true),
                Established,
            ),
            (
                "fin-wait-1-acked-then-fin",
                Seed::new(4, true, false, ALL, 1460, 502)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .seg(FIN | ACK, 0, 0, 502, 0, true)
                    .clock(255),
                FinWait1,
            ),
            (
                "fin-wait-1-orphan-data-reset",
                Seed::new(4, false, true, ALL, 1460, 502).seg(ACK | PSH, 0, 0, 502, 100, true),
                FinWait1,
            ),
            (
                "fin-wait-2-orphan-timeout",
                Seed::new(5, false, true, ALL, 1460, 502)
                    .clock(240)
                    .clock(255),
                FinWait2,
            ),
            (
                "close-wait-send-close",
                Seed::new(6, true, false, ALL, 1460, 502)
                    .user(0, 2000)
                    .user(3, 0)
                    .seg(ACK, 0, 0, 502, 0, true),
                CloseWait,
            ),
            (
                "closing-ack-time-wait",
                Seed::new(7, true, false, ALL, 1460, 502)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .clock(255),
                Closing,
            ),
            (
                "last-ack-acked",
                Seed::new(8, false, true, ALL, 1460, 502).seg(ACK, 0, 0, 502, 0, true),
                LastAck,
            ),
            (
                "time-wait-syn-reopen",
                Seed::new(9, false, true, ALL, 1460, 502)
                    .seg(SYN, 10, 0, 64240, 0, true)
                    .seg(ACK, 0, 0, 502, 0, true)
                    .user(5, 0),
                TimeWait,
            ),
            (
                "time-wait-refin-rst",
                Seed::new(9, true, false, NO_TS, 1460, 502)
                    .seg(FIN | ACK, -1, 0, 502, 0, false)
                    .seg(RST, 0, 0, 0, 0, false)
                    .clock(255),
                TimeWait,
            ),
        ]
    }
}

fn tcp_input_seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/fuzz/tcp_input")
}

#[test]
fn tcp_input_seeds_reach_their_states() {
    for (name, seed, target) in seeds::all() {
        assert_eq!(
            fuzz::tcp_target::setup_state(&seed.0),
            Some(target),
            "seed {name}"
        );
        fuzz::tcp_input(&seed.0);
    }
}

#[test]
#[ignore = "writes the seed corpus"]
fn write_tcp_input_seeds() {
    let dir = tcp_input_seed_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, seed, _) in seeds::all() {
        assert!(seed.0.len() < 1024, "seed {name} too large");
        std::fs::write(dir.join(format!("seed-{name}")), &seed.0).unwrap();
    }
}

/// Run one input file (e.g. a fuzzer artifact) through `tcp_input`:
/// `TCP_INPUT_FILE=path TCP_INPUT_TRACE=1 cargo test -p fuzz --test replay -- --ignored tcp_input_file --nocapture`.
#[test]
#[ignore = "needs TCP_INPUT_FILE"]
fn tcp_input_file() {
    let path = std::env::var("TCP_INPUT_FILE").expect("TCP_INPUT_FILE");
    fuzz::tcp_input(&std::fs::read(path).expect("read input"));
}

/// Replays one `stack_pair` input, with every frame and the link's decision
/// printed when STACK_PAIR_TRACE is set:
/// `STACK_PAIR_FILE=path STACK_PAIR_TRACE=1 cargo test -p fuzz --test replay -- --ignored stack_pair_file --nocapture`.
#[test]
#[ignore = "needs STACK_PAIR_FILE"]
fn stack_pair_file() {
    let path = std::env::var("STACK_PAIR_FILE").expect("STACK_PAIR_FILE");
    fuzz::stack_pair(&std::fs::read(path).expect("read input"));
}
