//! The runner's semantics, on the simulated stack (deterministic, no
//! namespaces): blocking calls, expectation failures, unexpected packets,
//! unsupported constructs, and the diff of two runs.

use oracle::duts::{DutSetup, SimTarget};
use oracle::normalize::normalize;
use oracle::run::{run_script, RunOptions, RunResult, Verdict};
use oracle::script;

const SETUP: DutSetup = DutSetup {
    static_neighbor: true,
    seed: 1,
    link_down: false,
    proxy_arp: None,
    tb_gso: false,
};

fn run(src: &str) -> RunResult {
    run_with(src, RunOptions::default())
}

/// `src` parsed and run on `target`.
fn run_on<T: oracle::target::Target>(target: &mut T, src: &str, opts: RunOptions) -> RunResult {
    let s = script::parse("t.pkt", src).expect("script parses");
    run_script(target, &s, opts)
}

const LISTEN: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
";

#[test]
fn blocking_accept_waits_for_the_handshake() {
    // accept() is called before the SYN arrives: it stays pending while the
    // packets run and returns when the handshake completes, at 0.2 s.
    let r = run(&format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.1 accept(3, ..., ...) = 4
+.1 < . 1:1(0) ack 1 win 65535
"
    ));
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.verdict);
    let accept = r
        .trace
        .events
        .iter()
        .find(|e| matches!(&e.kind, oracle::trace::TraceKind::Call { text, .. } if text.starts_with("accept")))
        .expect("accept traced");
    assert_eq!(accept.at, 200_000, "accept returned when the ACK arrived");
}

#[test]
fn blocking_end_time_is_checked() {
    // The script claims accept returns at 0.5 s; it returns at 0.2 s.
    let r = run(&format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.1...0.5 accept(3, ..., ...) = 4
+.1 < . 1:1(0) ack 1 win 65535
"
    ));
    match r.verdict {
        Verdict::Failed(f) => {
            assert_eq!(f.line, 6, "the accept line");
            assert!(f.message.contains("timing error"), "{}", f.message);
        }
        v => panic!("expected a timing failure, got {v:?}"),
    }
}

#[test]
fn wrong_expectation_names_the_field_and_shows_the_packet() {
    let r = run(&format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 2 <mss 1460>
"
    ));
    match r.verdict {
        Verdict::Failed(f) => {
            assert_eq!(f.line, 5);
            assert!(f.message.contains("ack 1 (expected 2)"), "{}", f.message);
            assert!(f.message.contains("actual:"), "{}", f.message);
            assert!(f.script.contains("ack 2"));
        }
        v => panic!("expected a failure, got {v:?}"),
    }
}

#[test]
fn a_packet_the_script_does_not_expect_fails() {
    // The SYN-ACK is not in the script.
    let r = run(&format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+.1 accept(3, ..., ...) = -1 EAGAIN
"
    ));
    match r.verdict {
        Verdict::Failed(f) => assert!(f.message.starts_with("unexpected packet"), "{}", f.message),
        v => panic!("expected a failure, got {v:?}"),
    }
}

#[test]
fn a_missing_packet_fails_after_the_tolerance() {
    let r = run(&format!(
        "{LISTEN}\
+0  > S. 0:0(0) ack 1 <mss 1460>
"
    ));
    match r.verdict {
        Verdict::Failed(f) => {
            assert!(f.message.contains("did not arrive"), "{}", f.message)
        }
        v => panic!("expected a failure, got {v:?}"),
    }
}

#[test]
fn unsupported_is_not_failed() {
    let r = run(&format!(
        "{LISTEN}+0 setsockopt(3, SOL_TCP, TCP_CORK, [1], 4) = 0\n"
    ));
    assert!(
        matches!(r.verdict, Verdict::Unsupported { line: 4, .. }),
        "{:?}",
        r.verdict
    );
}

fn run_with(src: &str, opts: RunOptions) -> RunResult {
    run_on(&mut SimTarget::new(SETUP), src, opts)
}

const ACCEPTED: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1000,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
+.1 < . 1:1(0) ack 1 win 1000
+0  accept(3, ..., ...) = 4
";

#[test]
fn backtick_sysctl_changes_the_stack_and_the_rest_is_a_note() {
    // tcp_sack=0 reaches the stack's profile: the SYN-ACK offers no SACK;
    // cubic is not modelled: a note, and the script still runs.
    let r = run("\
`sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_congestion_control=cubic`
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
");
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.verdict);
    assert_eq!(
        r.notes,
        vec!["line 1: net.ipv4.tcp_congestion_control=cubic: the stack has reno only, not cubic"]
    );
}

#[test]
fn python_block_checks_tcp_info_of_the_socket_under_test() {
    let pass = run(&format!(
        "{ACCEPTED}+0 %{{ assert tcpi_state == TCP_ESTABLISHED and tcpi_snd_mss == 1000 }}%\n"
    ));
    assert_eq!(pass.verdict, Verdict::Passed, "{:?}", pass.verdict);
    let fail = run(&format!(
        "{ACCEPTED}+0 %{{ assert tcpi_snd_cwnd == 3, tcpi_snd_cwnd }}%\n"
    ));
    match fail.verdict {
        Verdict::Failed(f) => {
            assert_eq!(f.line, 8);
            assert!(f.message.contains("tcpi_snd_cwnd=10"), "{}", f.message);
        }
        v => panic!("expected a failed assertion, got {v:?}"),
    }
    let before = run("0 %{ assert tcpi_state == 1 }%\n");
    assert!(
        matches!(before.verdict, Verdict::Unsupported { line: 1, .. }),
        "{:?}",
        before.verdict
    );
}

#[test]
fn a_tso_line_matches_the_segments_that_make_it_up() {
    let ok = run(&format!(
        "{ACCEPTED}+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n"
    ));
    assert_eq!(ok.verdict, Verdict::Passed, "{:?}", ok.verdict);
    // Three segments were merged for that one line.
    let out: Vec<_> = ok
        .trace
        .events
        .iter()
        .filter(|e| e.line == Some(9))
        .collect();
    assert_eq!(out.len(), 3);
    // A line longer than what is sent fails on the length.
    let short = run(&format!(
        "{ACCEPTED}+0 write(4, ..., 3000) = 3000\n+0 > P. 1:4001(4000) ack 1\n"
    ));
    match short.verdict {
        Verdict::Failed(f) => assert!(
            f.message.contains("length 3000 (expected 4000)"),
            "{}",
            f.message
        ),
        v => panic!("expected a length failure, got {v:?}"),
    }
}

#[test]
fn lenient_runs_queue_unexpected_packets_for_the_next_line() {
    // The delayed ACK of the data is not in the script: strict runs fail at
    // the next line, lenient (packetdrill's) runs do not.
    let src = format!("{ACCEPTED}+0 < P. 1:101(100) ack 1 win 1000\n+.3 read(4, ..., 100) = 100\n");
    let strict = run(&src);
    assert!(
        matches!(strict.verdict, Verdict::Failed(_)),
        "{:?}",
        strict.verdict
    );
    let lenient = run_with(
        &src,
        RunOptions {
            lenient: true,
            ..RunOptions::default()
        },
    );
    assert_eq!(lenient.verdict, Verdict::Passed, "{:?}", lenient.verdict);
    // ... but the next `>` line meets the queued packet first.
    let src = format!("{src}+0 > P. 1:2(1) ack 101\n");
    let met = run_with(
        &src,
        RunOptions {
            lenient: true,
            ..RunOptions::default()
        },
    );
    match met.verdict {
        Verdict::Failed(f) => assert_eq!(f.line, 10, "{f}"),
        v => panic!("expected the queued ACK to meet line 10, got {v:?}"),
    }
}

#[test]
fn relative_start_makes_an_unsigned_end_relative_to_the_previous_event() {
    // packetdrill: `+0...0.100 read` at 0.1 s returns at 0.2 s.
    let r = run(&format!(
        "{ACCEPTED}+0...0.100 read(4, ..., 1000) = 100\n+.1 < P. 1:101(100) ack 1 win 1000\n+0 > . 1:1(0) ack 101\n"
    ));
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.verdict);
}

#[test]
fn fcntl_getfl_reports_the_flags() {
    let r = run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 fcntl(3, F_GETFL) = 0x802\n");
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.verdict);
    let r = run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_GETFL) = 0x802\n");
    assert!(matches!(r.verdict, Verdict::Failed(_)), "{:?}", r.verdict);
}

#[test]
fn same_seed_same_trace_different_seed_same_normalized_trace() {
    let src = format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100,nop,wscale 7>
+.1 < . 1:1(0) ack 1 win 502 <nop,nop,TS val 110 ecr 100>
+0  accept(3, ..., ...) = 4
"
    );
    let s = script::parse("t.pkt", &src).unwrap();
    let go = |seed| {
        let mut t = SimTarget::new(DutSetup { seed, ..SETUP });
        run_script(&mut t, &s, RunOptions::default())
    };
    let (a, b, c) = (go(1), go(1), go(2));
    assert_eq!(a.verdict, Verdict::Passed);
    assert_eq!(a.trace, b.trace, "deterministic for one seed");
    assert_ne!(a.trace, c.trace, "the ISN depends on the seed");
    assert_eq!(
        normalize(&a.trace, &a.facts),
        normalize(&c.trace, &c.facts),
        "normalization removes what the seed changes"
    );
}

#[test]
fn blocking_connect_completes_with_the_handshake_or_fails_with_the_rst() {
    let ok = run("\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  connect(3, ..., ...) = 0
+0  > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0  > . 1:1(0) ack 1
");
    assert_eq!(ok.verdict, Verdict::Passed, "{:?}", ok.verdict);
    let refused = run("\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)
+0  > S 0:0(0) <...>
+.1 < R. 0:0(0) ack 1 win 0
");
    assert_eq!(refused.verdict, Verdict::Passed, "{:?}", refused.verdict);
    let wrong = run("\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  connect(3, ..., ...) = 0
+0  > S 0:0(0) <...>
+.1 < R. 0:0(0) ack 1 win 0
");
    match wrong.verdict {
        Verdict::Failed(f) => assert!(
            f.message
                .contains("connect returned -1 ECONNREFUSED, expected 0"),
            "{}",
            f.message
        ),
        v => panic!("expected a failure, got {v:?}"),
    }
}

#[test]
fn a_new_incarnation_after_time_wait_has_its_own_isn() {
    // The DUT closes first (TIME-WAIT); 63 s later the same 4-tuple opens
    // again with a new random ISN: the runner and the normalizer learn it
    // from the SYN-ACK answering the new SYN, so both are `S. 0:0(0)`.
    let src = format!(
        "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  close(4) = 0
+0  > F. 1:1(0) ack 1
+.1 < F. 1:1(0) ack 2 win 65535
+0  > . 2:2(0) ack 2
+63 < S 1000:1000(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1001 <mss 1460>
+.1 < . 1001:1001(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
"
    );
    let s = script::parse("t.pkt", &src).unwrap();
    let go = |seed| {
        let mut t = SimTarget::new(DutSetup { seed, ..SETUP });
        run_script(&mut t, &s, RunOptions::default())
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.verdict, Verdict::Passed, "{:?}", a.verdict);
    let (na, nb) = (normalize(&a.trace, &a.facts), normalize(&b.trace, &b.facts));
    assert_eq!(na, nb, "both ISNs normalized away");
    let second_synack = na
        .iter()
        .filter(|e| e.dir == '>' && e.render(false).contains("S. "))
        .nth(1)
        .expect("second SYN-ACK");
    assert!(
        second_synack.render(false).contains("S. 0:0(0) ack 1001"),
        "{}",
        second_synack.render(false)
    );
}

#[test]
fn a_synack_written_with_a_sequence_number_is_checked_against_the_old_isn() {
    // A SYN above RCV.NXT in TIME-WAIT reopens with ISN = old SND.NXT + 65537
    // (as Linux): `S. 65539:65539(0)` passes, any other number fails.
    let script = |isn: u32| {
        format!(
            "{LISTEN}\
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  close(4) = 0
+0  > F. 1:1(0) ack 1
+.1 < F. 1:1(0) ack 2 win 65535
+0  > . 2:2(0) ack 2
+1  < S 1000:1000(0) win 65535 <mss 1460>
+0  > S. {isn}:{isn}(0) ack 1001 <mss 1460>
"
        )
    };
    assert_eq!(run(&script(65539)).verdict, Verdict::Passed);
    assert!(matches!(run(&script(65540)).verdict, Verdict::Failed(_)));
}

#[test]
fn option_lines_ipv6_is_unsupported_and_unknown_ones_are_noted() {
    let v6 = run("--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    assert!(
        matches!(v6.verdict, Verdict::Unsupported { line: 1, ref what } if what.contains("IPv4 only")),
        "{:?}",
        v6.verdict
    );
    let noted = run("--tcp_ts_tick_usecs=1000\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
    assert_eq!(noted.verdict, Verdict::Passed);
    assert_eq!(
        noted.notes,
        vec!["line 1: option --tcp_ts_tick_usecs is not used by this harness"]
    );
}

#[test]
fn tolerance_percent_widens_the_window_of_long_intervals() {
    // The SYN-ACK is written 0.4 s late. 12.5 % of 0.4 s (50 ms) does not
    // cover it; 100 % (400 ms) does.
    let src = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460>\n+.4 > S. 0:0(0) ack 1 <mss 1460>\n";
    assert!(matches!(run(src).verdict, Verdict::Failed(_)));
    let wide = run(&format!("--tolerance_percent=100\n{src}"));
    assert_eq!(wide.verdict, Verdict::Passed, "{:?}", wide.verdict);
}

#[test]
fn a_blocking_write_returns_when_all_of_it_is_queued() {
    // 80000 bytes do not fit the stack's send buffer (Linux's memory
    // accounting takes 74000 here, as Linux does). The blocked write goes
    // on when the socket is writable again (sk_stream_is_writeable, the
    // wakeup Linux's writer waits for): not after the ACK of the first 10
    // segments, after that of the next 20 (as on Linux, measured), and
    // returns with everything written. A non-blocking one returns what
    // fitted.
    let lenient = RunOptions {
        lenient: true,
        ..RunOptions::default()
    };
    let blocking = run_with(
        &format!(
            "{ACCEPTED}+0...0.11 write(4, ..., 80000) = 80000\n+.1 < . 1:1(0) ack 10001 win 1000\n+.01 < . 1:1(0) ack 30001 win 1000\n"
        ),
        lenient,
    );
    assert_eq!(blocking.verdict, Verdict::Passed, "{:?}", blocking.verdict);
    let nb = run_with(
        &format!(
            "{ACCEPTED}+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 write(4, ..., 80000) = 80000\n"
        ),
        lenient,
    );
    match nb.verdict {
        Verdict::Failed(f) => assert!(f.message.contains("write returned 74000"), "{f}"),
        v => panic!("a non-blocking write cannot queue it all: {v:?}"),
    }
}

/// A target whose thread wakes `lag` µs after the deadline it asked for, as
/// the testbench's does on a loaded machine: at every wake-up, or `once`,
/// at the first at or after 0.1 s. With `rebases` its script clock can move
/// (`Target::rebase`), as the real-time targets' can.
struct Laggy {
    sim: SimTarget,
    lag: oracle::target::Micros,
    once: bool,
    rebases: bool,
    /// µs the script clock runs behind the simulated one.
    offset: oracle::target::Micros,
    lagged: bool,
}

impl Laggy {
    fn new(lag: oracle::target::Micros, once: bool, rebases: bool) -> Laggy {
        Laggy {
            sim: SimTarget::new(SETUP),
            lag,
            once,
            rebases,
            offset: 0,
            lagged: false,
        }
    }

    /// The simulated time the thread wakes at when it asks for `t`.
    fn wake(&mut self, t: oracle::target::Micros) -> oracle::target::Micros {
        let lag = if !self.once || (!self.lagged && t >= 100_000) {
            self.lagged = true;
            self.lag
        } else {
            0
        };
        t + self.offset + lag
    }
}

impl oracle::target::Target for Laggy {
    fn name(&self) -> &'static str {
        "laggy"
    }
    fn now(&mut self) -> oracle::target::Micros {
        self.sim.now() - self.offset
    }
    fn wait_until(&mut self, t: oracle::target::Micros) {
        let t = self.wake(t);
        self.sim.wait_until(t)
    }
    fn rebase(&mut self, by: oracle::target::Micros) -> bool {
        if self.rebases {
            self.offset += by;
        }
        self.rebases
    }
    fn inject(&mut self, frame: &[u8]) {
        self.sim.inject(frame)
    }
    fn recv_frame(
        &mut self,
        deadline: oracle::target::Micros,
    ) -> Option<(oracle::target::Micros, Vec<u8>)> {
        let d = self.wake(deadline);
        let off = self.offset;
        self.sim.recv_frame(d).map(|(at, f)| (at - off, f))
    }
    fn syscall(&mut self, call: &oracle::target::SysCall) -> Result<i64, oracle::target::Errno> {
        self.sim.syscall(call)
    }
    fn is_ready(&mut self, fd: i32, interest: oracle::target::Interest) -> bool {
        self.sim.is_ready(fd, interest)
    }
    fn shell(
        &mut self,
        cmd: &str,
        dir: &std::path::Path,
    ) -> Result<oracle::target::ShellOutcome, String> {
        self.sim.shell(cmd, dir)
    }
    fn tcp_info(&mut self, fd: i32) -> Result<Vec<(&'static str, i64)>, oracle::target::Errno> {
        self.sim.tcp_info(fd)
    }
}

#[test]
fn a_late_testbench_is_recorded_line_by_line() {
    // The SYN is due at 0.1 s and the accept() at 0.2 s; a testbench that
    // wakes 2 ms late performs both late (the SYN-ACK line is the DUT's and
    // is judged by the tolerance instead; the ACK right after it is not
    // late, as it could not go before the SYN-ACK was seen). This target
    // cannot move its clock, so each late line stays late. On time,
    // nothing is recorded.
    let src = format!(
        "{LISTEN}\
+.1 < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <mss 1460>
+0  < . 1:1(0) ack 1 win 65535
+.1 accept(3, ..., ...) = 4
"
    );
    let r = run_on(
        &mut Laggy::new(2_000, false, false),
        &src,
        RunOptions::default(),
    );
    assert!(matches!(r.verdict, Verdict::Passed), "{:?}", r.verdict);
    assert_eq!(r.late, ["line 4: 2.0 ms late", "line 7: 2.0 ms late"]);
    let r = run(&src);
    assert!(matches!(r.verdict, Verdict::Passed), "{:?}", r.verdict);
    assert!(r.late.is_empty(), "{:?}", r.late);
}

#[test]
fn after_a_late_action_the_script_clock_moves_with_the_testbench() {
    // The SYN is injected 3 ms late. The script clock then moves by 3 ms:
    // the ACK 50 ms after the SYN comes 50 ms after it was injected, so the
    // DUT measures the RTT the script wrote, and no later line is late.
    let src = format!(
        "{LISTEN}\
+.1  < S 0:0(0) win 65535 <mss 1460>
+0   > S. 0:0(0) ack 1 <mss 1460>
+.05 < . 1:1(0) ack 1 win 65535
+0   accept(3, ..., ...) = 4
"
    );
    let r = run_on(
        &mut Laggy::new(3_000, true, true),
        &src,
        RunOptions::default(),
    );
    assert!(matches!(r.verdict, Verdict::Passed), "{:?}", r.verdict);
    assert_eq!(r.late, ["line 4: 3.0 ms late"]);
    let times: Vec<_> = r
        .trace
        .events
        .iter()
        .map(|e| (e.line, e.at, e.shift))
        .collect();
    assert_eq!(
        times[3..],
        [
            (Some(4), 100_000, 3_000),
            (Some(5), 100_000, 3_000),
            (Some(6), 150_000, 3_000),
            (Some(7), 150_000, 3_000)
        ]
    );
}

#[test]
fn the_ts_comparison_follows_real_time_across_a_shifted_clock() {
    // The testbench is 10 ms late with the ACK, after the DUT's first TS
    // val: the script clock moves by 10 ms, the DUT's TS clock does not.
    // Against an on-time run the TS values then differ by 10 ms while the
    // script times do not; counted in real time they agree.
    let src = format!(
        "{LISTEN}\
+0   < S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 100 ecr 0>
+0   > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 100 ecr 100>
+.1  < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 200 ecr 100>
+0   accept(3, ..., ...) = 4
+.01 write(4, ..., 10) = 10
+0   > P. 1:11(10) ack 1 <nop,nop,TS val 210 ecr 200>
"
    );
    let a = run_on(
        &mut Laggy::new(10_000, true, true),
        &src,
        RunOptions::default(),
    );
    let b = run(&src);
    assert!(matches!(a.verdict, Verdict::Passed), "{:?}", a.verdict);
    assert_eq!(a.late, ["line 6: 10.0 ms late"]);
    let timing = oracle::diff::Timing::from(oracle::run::Tolerance::default());
    let d = |trace: &oracle::trace::Trace| {
        oracle::diff::diff(
            "t",
            "late",
            &normalize(trace, &a.facts),
            "sim",
            &normalize(&b.trace, &b.facts),
            &timing,
            &[],
        )
    };
    let report = d(&a.trace);
    assert!(report.is_clean(), "{report}");
    // Without the shift recorded, the same values would differ.
    let mut unshifted = a.trace.clone();
    for e in &mut unshifted.events {
        e.shift = 0;
    }
    let report = d(&unshifted);
    assert!(
        !report.is_clean() && report.to_string().contains("`ts`"),
        "{report}"
    );
}
