//! Writing a finding as a replayable packetdrill script: the case's
//! stimuli, with Linux's recorded frames as the expected `>` lines and its
//! recorded call results as the expected results.

use std::fmt::Write as _;
use std::path::Path;

use stack::wire::{FramePayload, FrameRepr, IpPayload, TcpOption};

use super::gen::{render_lines, Case};
use super::{Finding, FuzzOptions, WRITTEN_TOLERANCE};
use crate::duts::{make_target, DutKind, DutSetup};
use crate::normalize::Bases;
use crate::run::{flag_letters, option_text, run_script, RunOptions, RunResult, Verdict};
use crate::trace::{Dir, TraceKind};

/// A DUT frame as a `>` line: sequence numbers relative to `isn`, the TS
/// val relative to `ts_base` (+100, as hand-written scripts start), the ack,
/// TS ecr and SACK blocks literal (they are the testbench's numbers).
fn outbound_text(bytes: &[u8], isn: u32, ts_base: Option<u32>) -> Option<String> {
    let frame = FrameRepr::parse(bytes).ok()?;
    let FramePayload::Ipv4(_, IpPayload::Tcp(tcp, data)) = &frame.payload else {
        return None;
    };
    // A RST|ACK with seq 0 answers a segment that matched no connection:
    // its 0 is literal (RFC 9293 3.10.7.1), as the runner reads it.
    let seq = if tcp.flags.0 & 0x04 != 0 && tcp.seq_number == 0 {
        0
    } else {
        tcp.seq_number.wrapping_sub(isn)
    };
    let mut s = format!(
        "> {} {seq}:{}({})",
        flag_letters(tcp.flags.0),
        seq.wrapping_add(data.len() as u32),
        data.len()
    );
    if tcp.flags.0 & 0x10 != 0 {
        let _ = write!(s, " ack {}", tcp.ack_number);
    }
    let _ = write!(s, " win {}", tcp.window_len);
    let mut opts = Vec::new();
    for o in &tcp.options {
        let o = &o;
        opts.push(match o {
            TcpOption::EndOfList => continue,
            // Unknown options cannot be written back as a script line.
            TcpOption::Unknown { .. } => return None,
            // TSval as the script's clock: relative to the DUT's first, + 100.
            TcpOption::Timestamps { tsval, tsecr } => option_text(&TcpOption::Timestamps {
                tsval: tsval
                    .wrapping_sub(ts_base.unwrap_or(*tsval))
                    .wrapping_add(100),
                tsecr: *tsecr,
            }),
            other => option_text(other),
        });
    }
    if !opts.is_empty() {
        let _ = write!(s, " <{}>", opts.join(","));
    }
    Some(s)
}

/// The expected result of a recorded call, written into the call's line.
fn with_result(line: &str, result: &str) -> String {
    let head = line.rsplit_once(" = ").map_or(line, |(h, _)| h);
    // `0 [ECONNRESET]`: getsockopt's out-value goes into its argument.
    if let Some((v, out)) = result.split_once(" [") {
        let out = out.trim_end_matches(']');
        let head = head.replacen("[0], [4]", &format!("[{out}], [4]"), 1);
        return format!("{head} = {v}");
    }
    format!("{head} = {result}")
}

/// `ecr 1` of an inbound line (the record-mode placeholder for "the DUT's
/// latest TS val") replaced by the value written for that TS val.
fn with_ecr(line: &str, ecr: u32) -> String {
    for end in [",", ">"] {
        let pat = format!(" ecr 1{end}");
        if let Some(i) = line.find(&pat) {
            return format!("{} ecr {ecr}{end}{}", &line[..i], &line[i + pat.len()..]);
        }
    }
    line.to_string()
}

fn secs(us: i64) -> String {
    format!("{:.6}", us as f64 / 1e6)
}

/// The script of a finding: `case` with `linux`'s recorded outcome as the
/// expectations, and a header saying what the other DUT did instead.
pub fn script(
    case: &Case,
    linux: &RunResult,
    finding: &Finding,
    opts: &FuzzOptions,
    other: &str,
) -> String {
    let lines = render_lines(case);
    let mut s = String::new();
    let _ = writeln!(s, "// oracle fuzz finding `{}`", finding.signature);
    let _ = writeln!(
        s,
        "// Case seed {} ({} stimuli after shrinking), found by: {}",
        case.seed,
        case.steps.len(),
        opts.command
    );
    let at = match finding.step {
        Some(i) => format!(
            "after stimulus {} ({})",
            i + 1,
            super::gen::stim_kind(&case.steps[i].stim)
        ),
        None => "in the handshake".to_string(),
    };
    let _ = writeln!(s, "// The expected lines are what Linux did; {at}:");
    let _ = writeln!(s, "//   linux: {}", finding.linux);
    let _ = writeln!(s, "//   {other}: {}", finding.other);
    let _ = writeln!(
        s,
        "// Replay: oracle run {} --dut linux,{other}",
        opts.out
            .join(super::file_name(&finding.signature))
            .display()
    );
    let _ = writeln!(s, "--tolerance_usecs={}", WRITTEN_TOLERANCE.usecs);
    // Each `>` line counts from the ISN in force at its frame, as the
    // normalizer and the runner count: the first SYN's, then each new
    // incarnation's from its SYN-ACK on (written `S. 0:0(0)`, which is how
    // the runner learns it on replay). One ISN for the whole trace (the last
    // one learnt) put the first connection's lines off by the distance
    // between the two ISNs, and Linux reset the replay.
    let bases = Bases::learn(&linux.trace, &linux.facts);
    let mut ts_base: Option<u32> = None;
    let mut last_ts: Option<u32> = None;
    let mut last_at: i64 = 0;
    for (i, e) in linux.trace.events.iter().enumerate() {
        match (&e.kind, e.line) {
            (
                TraceKind::Frame {
                    dir: Dir::Out,
                    bytes,
                },
                _,
            ) => {
                let mut isn = 0;
                if let Ok(f) = FrameRepr::parse(bytes) {
                    if let FramePayload::Ipv4(_, IpPayload::Tcp(tcp, _)) = &f.payload {
                        if let Some((val, _)) = tcp.options.timestamps() {
                            ts_base.get_or_insert(val);
                            last_ts = Some(val);
                        }
                        isn = bases.get(tcp.src_port, tcp.dst_port, i).0.unwrap_or(0);
                    }
                }
                // Linux's own time, never before the line it follows.
                let t = e.at.max(last_at);
                last_at = t;
                match outbound_text(bytes, isn, ts_base) {
                    Some(text) => {
                        let _ = writeln!(s, "{} {text}", secs(t));
                    }
                    None => {
                        let _ = writeln!(s, "// (a frame that is not TCP: {} bytes)", bytes.len());
                    }
                }
            }
            (kind, Some(line)) => {
                let Some(l) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
                    continue;
                };
                let mut text = l.text.clone();
                if let TraceKind::Call { result, .. } = kind {
                    if l.call {
                        text = with_result(&text, result);
                    }
                }
                if l.ts_ecr {
                    if let (Some(v), Some(b)) = (last_ts, ts_base) {
                        text = with_ecr(&text, v.wrapping_sub(b).wrapping_add(100));
                    }
                }
                last_at = last_at.max(l.at);
                let _ = writeln!(s, "{} {text}", secs(l.at));
            }
            _ => {}
        }
    }
    s
}

/// Replays a written script on Linux (not in record mode): the expected
/// lines are Linux's, so it must pass.
pub fn replay_on_linux(path: &Path) -> Result<(), String> {
    let script = crate::script::parse_file(path).map_err(|e| e.to_string())?;
    let setup = DutSetup {
        tb_gso: false,
        static_neighbor: true,
        seed: 1,
        link_down: false,
        proxy_arp: None,
    };
    let mut t = make_target(DutKind::Linux, setup).map_err(|e| e.to_string())?;
    let r = run_script(t.as_mut(), &script, RunOptions::default());
    match r.verdict {
        Verdict::Passed => Ok(()),
        Verdict::Failed(f) => Err(f.to_string()),
        Verdict::Unsupported { what, .. } => Err(format!("unsupported: {what}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_ecr_are_rewritten() {
        assert_eq!(
            with_result("read(4, ..., 1000) = 1000", "-1 EAGAIN"),
            "read(4, ..., 1000) = -1 EAGAIN"
        );
        assert_eq!(
            with_result(
                "getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0",
                "0 [ECONNRESET]"
            ),
            "getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0"
        );
        assert_eq!(
            with_ecr("< . 1:1(0) ack 1 win 502 <nop,nop,TS val 110 ecr 1>", 123),
            "< . 1:1(0) ack 1 win 502 <nop,nop,TS val 110 ecr 123>"
        );
        assert_eq!(
            with_ecr(
                "< . 1:1(0) ack 1 win 502 <nop,nop,TS val 110 ecr 1,nop,nop,sack 1:5>",
                7
            ),
            "< . 1:1(0) ack 1 win 502 <nop,nop,TS val 110 ecr 7,nop,nop,sack 1:5>"
        );
    }
}

#[cfg(test)]
mod sim_tests {
    use super::*;
    use crate::fuzz::{gen, run_on, Finding, FuzzOptions};

    fn opts() -> FuzzOptions {
        FuzzOptions {
            seed: 1,
            cases: Some(1),
            time: None,
            jobs: 1,
            steps: 8,
            out: "corpus/divergences".into(),
            duts: [DutKind::Linux, DutKind::Sim],
            declared: Vec::new(),
            shrink_budget: 10,
            command: "oracle fuzz --seed 1".into(),
        }
    }

    /// Writes the script of `case` as the sim recorded it, and checks that
    /// it parses, re-renders to the same events, has a `>` line per frame
    /// the sim sent and (its expectations being the recording DUT's)
    /// replays on the sim, which stands in for Linux here.
    fn write_and_replay(seed: u64, case: &gen::Case, run: &crate::fuzz::DutRun) -> String {
        let finding = Finding {
            signature: "est.write.win".into(),
            step: Some(0),
            linux: "x".into(),
            other: "y".into(),
        };
        let text = script(case, &run.result, &finding, &opts(), "sim");
        let parsed = crate::script::parse("w.pkt", &text)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let rendered: String = parsed.events.iter().map(|e| format!("{e}\n")).collect();
        let reparsed = crate::script::parse("w.pkt", &rendered)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{rendered}"));
        assert_eq!(
            parsed.events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
            reparsed.events.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
        // Every outbound frame became a `>` line.
        let outs = run
            .result
            .trace
            .events
            .iter()
            .filter(|e| matches!(e.kind, TraceKind::Frame { dir: Dir::Out, .. }))
            .count();
        assert_eq!(text.lines().filter(|l| l.contains(" > ")).count(), outs);
        let mut t = make_target(
            DutKind::Sim,
            DutSetup {
                static_neighbor: true,
                seed,
                link_down: false,
                proxy_arp: None,
                tb_gso: false,
            },
        )
        .expect("sim");
        let r = run_script(t.as_mut(), &parsed, RunOptions::default());
        assert_eq!(r.verdict, Verdict::Passed, "seed {seed}:\n{text}");
        text
    }

    #[test]
    fn written_scripts_round_trip_and_replay() {
        for seed in 0..40 {
            let case = gen::generate(seed, 8);
            let run = run_on(DutKind::Sim, &case).expect("the sim runs every case");
            write_and_replay(seed, &case, &run);
        }
    }

    /// A case whose connection is reset and opened again by a new SYN has
    /// two ISNs: the lines of each incarnation count from its own, each
    /// SYN-ACK is written `S. 0:0(0)`, and the script replays. (Written with
    /// the last ISN throughout, the first connection's ACK acknowledged
    /// nothing the DUT had sent, and the replay was reset: three of the
    /// twelfth session's findings did not replay on Linux.)
    #[test]
    fn a_new_incarnation_counts_from_its_own_isn() {
        let mut found = 0;
        for seed in 110_000..111_000 {
            let case = gen::generate(seed, 8);
            let run = run_on(DutKind::Sim, &case).expect("the sim runs every case");
            if run.result.facts.new_isns.is_empty() {
                continue;
            }
            let text = write_and_replay(seed, &case, &run);
            let synacks: Vec<&str> = text.lines().filter(|l| l.contains(" > S. ")).collect();
            assert!(synacks.len() >= 2, "seed {seed}:\n{text}");
            for l in synacks {
                assert!(l.contains(" > S. 0:0(0) "), "seed {seed}: {l}\n{text}");
            }
            found += 1;
            if found == 3 {
                break;
            }
        }
        assert_eq!(
            found, 3,
            "no case in the seed range opens a second incarnation"
        );
    }
}
