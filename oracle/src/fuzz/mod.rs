//! `oracle fuzz`: differential fuzzing of the stack against Linux.
//!
//! Each case ([`gen`]) is a connection prefix and a few stimuli (inbound
//! segments, socket calls, time gaps), rendered as a record-mode script and
//! run on two DUTs (Linux and the stack, each in namespaces of its own). The
//! traces are normalized ([`crate::normalize`]) and compared as groups: what
//! the DUT sent after each stimulus, and what each call returned. A
//! difference no `fuzz` row of the divergence table declares is confirmed by
//! a second run, shrunk ([`shrink`]) and written as a replayable
//! packetdrill script ([`write`]) whose expected lines are Linux's.

pub mod gen;
pub mod shrink;
pub mod write;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::diff::Declared;
use crate::duts::{make_target, DutKind, DutSetup};
use crate::normalize::{normalize, NormEvent};
use crate::run::{run_script, RunOptions, RunResult, Tolerance, Verdict};
use crate::script;
use crate::target::Micros;

use gen::{render, render_lines, stim_kind, Case, Line, Open};

/// One DUT's run of a case.
#[derive(Debug, Clone)]
pub struct DutRun {
    /// The raw run.
    pub result: RunResult,
    /// Its normalized trace.
    pub norm: Vec<NormEvent>,
}

/// Runs a case on one DUT in record mode.
pub fn run_on(kind: DutKind, case: &Case) -> Result<DutRun, String> {
    let text = render(case);
    // A case that does not build a script is skipped, never a crash.
    let script = script::parse("fuzz-case", &text).map_err(|e| e.to_string())?;
    let setup = DutSetup {
        tb_gso: false,
        static_neighbor: true,
        seed: case.seed,
        link_down: false,
        proxy_arp: None,
    };
    let mut target = make_target(kind, setup).map_err(|e| e.to_string())?;
    let opts = RunOptions {
        record: true,
        ..RunOptions::default()
    };
    let result = run_script(target.as_mut(), &script, opts);
    drop(target);
    let mut norm = normalize(&result.trace, &result.facts);
    literal_rst_seq(&result, &mut norm);
    Ok(DutRun { result, norm })
}

/// A RST|ACK with sequence number 0 answers a segment without ACK that
/// matched no connection (RFC 9293 3.10.7.1: `<SEQ=0><ACK=SEG.SEQ+SEG.LEN>
/// <CTL=RST,ACK>`, e.g. a SYN after the connection was reset): its 0 is
/// literal, not relative to the old connection's ISN (which differs between
/// the DUTs and would make every such RST a difference).
fn literal_rst_seq(result: &RunResult, norm: &mut [NormEvent]) {
    use stack::wire::{FramePayload, FrameRepr, IpPayload, TcpFlags};
    for (e, n) in result.trace.events.iter().zip(norm.iter_mut()) {
        let crate::trace::TraceKind::Frame {
            dir: crate::trace::Dir::Out,
            bytes,
        } = &e.kind
        else {
            continue;
        };
        let Ok(f) = FrameRepr::parse(bytes) else {
            continue;
        };
        let FramePayload::Ipv4(_, IpPayload::Tcp(tcp, _)) = &f.payload else {
            continue;
        };
        if !tcp.flags.contains(TcpFlags::RST) || tcp.seq_number != 0 {
            continue;
        }
        for (k, v) in n.fields.iter_mut() {
            if *k == "_tcp" {
                let mut toks: Vec<String> = v.split(' ').map(str::to_string).collect();
                if let Some(t) = toks.iter_mut().find(|t| t.contains(':')) {
                    *t = "0:0(0)".to_string();
                }
                *v = toks.join(" ");
            }
        }
    }
}

/// Runs a case on both DUTs side by side.
pub fn run_pair(duts: [DutKind; 2], case: &Case) -> Result<[DutRun; 2], String> {
    let (a, b) = std::thread::scope(|s| {
        let ha = s.spawn(|| run_on(duts[0], case));
        let hb = s.spawn(|| run_on(duts[1], case));
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<DutRun, String>>| {
            h.join()
                .unwrap_or_else(|_| Err("the DUT's run panicked".to_string()))
        };
        (join(ha), join(hb))
    });
    Ok([a?, b?])
}

/// One difference between the two DUTs' behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `STATE.STIMULUS.WHAT`, e.g. `finin.seg-FA.flags` or
    /// `est.write.missing-PA`: the same bug in the same state is one finding.
    pub signature: String,
    /// The step (stimulus index) it followed; `None` in the prefix.
    pub step: Option<usize>,
    /// What Linux did there.
    pub linux: String,
    /// What the other DUT did.
    pub other: String,
}

/// What happened after one stimulus.
#[derive(Debug, Clone, Default)]
struct Group {
    /// Script line (1-based) of the stimulus.
    line: usize,
    /// When the stimulus ran.
    at: Micros,
    /// A call's result.
    result: Option<String>,
    /// The frames the DUT sent before the next stimulus.
    outs: Vec<NormEvent>,
    /// `repeat[j]`: `outs[j]` resends what the DUT had sent before (data
    /// below the highest sequence number sent, or the same segment again,
    /// e.g. a retransmitted FIN): what a retransmission timer sends.
    repeat: Vec<bool>,
}

fn groups(norm: &[NormEvent]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut highest = 0u32;
    let mut seen: HashSet<String> = HashSet::new();
    for e in norm {
        match (e.dir, e.line) {
            ('<' | '=', Some(line)) => out.push(Group {
                line,
                at: e.at,
                result: (e.dir == '=').then(|| {
                    e.fields
                        .iter()
                        .find(|(k, _)| *k == "_result")
                        .map_or(String::new(), |(_, v)| v.clone())
                }),
                ..Group::default()
            }),
            _ => {
                let text = event_text(e);
                let repeat = is_rexmit(e, &mut highest) || !seen.insert(text);
                if out.is_empty() {
                    out.push(Group::default());
                }
                if let Some(g) = out.last_mut() {
                    g.outs.push(e.clone());
                    g.repeat.push(repeat);
                }
            }
        }
    }
    out
}

/// Linux runs its retransmission timers on the timer wheel, which files a
/// timeout of 64–511 jiffies (0.26–2 s at HZ=250, e.g. a doubled RTO) at a
/// granularity of 8 jiffies, 32 ms: it fires up to that much after the
/// stack's exact timer (plus a jiffy of tick). A retransmission that one
/// DUT sends this close before the next stimulus and the other does not
/// (it comes after the stimulus, or the stimulus made it moot, e.g. by a
/// reset) is a race at the boundary, not a difference in behaviour.
const RACE_SLACK: Micros = 36_000;

/// An event this soon after its stimulus answers it, whatever it is (both
/// DUTs answer within a few hundred µs; measured up to 0.3 ms).
const RESPONSE_DELAY: Micros = 1_000;

/// Drops the retransmissions that race a stimulus boundary (see
/// [`RACE_SLACK`]) from the groups before they are compared: a trailing
/// one-sided repeat sent late in its group and within the slack of the
/// next stimulus (or of the end of the trace), and, if the other DUT sends
/// the same segment again within the slack after that stimulus, that one
/// too, whether or not it answers the stimulus first (`oracle fuzz`,
/// est.seg-FPA-oow.missing-A of seed 270000: the stack's second
/// zero-window probe 4 ms before a FIN, Linux's 16 ms after, behind its
/// ACK of the FIN). Returns how many were dropped.
fn drop_boundary_races(a: &mut [Group], b: &mut [Group]) -> usize {
    let mut dropped = 0;
    let n = a.len().min(b.len());
    for i in 0..n {
        let end = |g: &[Group]| {
            g.get(i + 1)
                .map_or(g[i].at + crate::run::DRAIN, |next| next.at)
        };
        let (end_a, end_b) = (end(a), end(b));
        let mut carried: Option<(bool, String)> = None;
        while a[i].outs.len() != b[i].outs.len() {
            let a_longer = a[i].outs.len() > b[i].outs.len();
            let (g, end) = if a_longer {
                (&mut a[i], end_a)
            } else {
                (&mut b[i], end_b)
            };
            let (Some(e), Some(&rep)) = (g.outs.last(), g.repeat.last()) else {
                break;
            };
            let late = e.at - g.at >= RESPONSE_DELAY && end - e.at <= RACE_SLACK;
            if !(rep && late && e.dir == '>') {
                break;
            }
            carried = Some((a_longer, event_text(e)));
            g.outs.pop();
            g.repeat.pop();
            dropped += 1;
        }
        // The other DUT's copy, sent just after the next stimulus: in its
        // group, or in a later one when further stimuli came within the
        // slack (`oracle fuzz`, est.read.rexmit-missing-PA of seed
        // 290000: Linux's retransmission 22 ms after the boundary, two
        // stimuli 10 ms apart on).
        if let Some((a_had, text)) = carried {
            let other: &mut [Group] = if a_had { b } else { a };
            let boundary = other.get(i + 1).map(|g| g.at);
            let later = other.get_mut(i + 1..).unwrap_or_default();
            for g in later {
                let Some(boundary) = boundary.filter(|&t| g.at - t <= RACE_SLACK) else {
                    break;
                };
                let copy = g.outs.iter().zip(&g.repeat).position(|(e, &rep)| {
                    rep && e.dir == '>' && e.at - boundary <= RACE_SLACK && event_text(e) == text
                });
                if let Some(k) = copy {
                    g.outs.remove(k);
                    g.repeat.remove(k);
                    dropped += 1;
                    break;
                }
            }
        }
    }
    dropped
}

/// An event without its line and time: what is compared.
pub fn event_text(e: &NormEvent) -> String {
    let r = e.render(false);
    // render() starts with the `L<line>` column.
    r.split_once(' ')
        .map_or(r.clone(), |(_, rest)| rest.trim().to_string())
}

fn field<'a>(e: &'a NormEvent, k: &str) -> Option<&'a str> {
    e.fields
        .iter()
        .find(|(kk, _)| *kk == k)
        .map(|(_, v)| v.as_str())
}

/// `FLAGS seq:end(len) [ack A] win W` split into its parts.
fn tcp_parts(s: &str) -> Vec<(&'static str, String)> {
    let mut parts = Vec::new();
    let toks: Vec<&str> = s.split(' ').collect();
    let (flags, rest) = match toks.first() {
        Some(t) if t.contains(':') => ("", &toks[..]),
        Some(t) => (*t, &toks[1..]),
        None => ("", &toks[..]),
    };
    parts.push(("flags", flags.to_string()));
    if let Some(range) = rest.first() {
        let (seq, len) = range.split_once(':').unwrap_or((range, ""));
        let len = len.split_once('(').map_or("", |(_, l)| l);
        parts.push(("seq", seq.to_string()));
        parts.push(("len", len.trim_end_matches(')').to_string()));
    }
    let mut it = rest.iter().skip(1);
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        match *k {
            "ack" => parts.push(("ack", v.to_string())),
            "win" => parts.push(("win", v.to_string())),
            _ => {}
        }
    }
    parts
}

/// The most telling field in which two outbound events differ, in order of
/// weight: a different kind of segment says more than its window.
pub fn differing_field(a: &NormEvent, b: &NormEvent) -> Option<&'static str> {
    let (ta, tb) = (field(a, "_tcp"), field(b, "_tcp"));
    let (pa, pb) = (
        ta.map(tcp_parts).unwrap_or_default(),
        tb.map(tcp_parts).unwrap_or_default(),
    );
    let get = |p: &[(&'static str, String)], k: &str| {
        p.iter().find(|(kk, _)| *kk == k).map(|(_, v)| v.clone())
    };
    if ta.is_some() != tb.is_some() {
        return Some("proto");
    }
    for k in ["flags", "seq", "len", "ack"] {
        if get(&pa, k) != get(&pb, k) {
            return Some(k);
        }
    }
    if field(a, "_opts") != field(b, "_opts") {
        return Some("opts");
    }
    if get(&pa, "win") != get(&pb, "win") {
        return Some("win");
    }
    for (k, _) in a.fields.iter().chain(&b.fields) {
        if k.starts_with("_framelen") {
            continue;
        }
        if field(a, k) != field(b, k) {
            return Some(if k.starts_with('_') { "other" } else { k });
        }
    }
    None
}

fn flags_of(e: &NormEvent) -> String {
    let f = field(e, "_tcp")
        .map(tcp_parts)
        .and_then(|p| p.into_iter().next().map(|(_, v)| v))
        .unwrap_or_else(|| "frame".into());
    if f.is_empty() {
        "none".into()
    } else {
        f.replace('.', "A")
    }
}

/// Whether `e` (a frame the DUT sent) carries data starting below
/// `highest`, the end of what the DUT had sent before; updates `highest`.
fn is_rexmit(e: &NormEvent, highest: &mut u32) -> bool {
    let Some(parts) = field(e, "_tcp").map(tcp_parts) else {
        return false;
    };
    let get = |k: &str| {
        parts
            .iter()
            .find(|(kk, _)| *kk == k)
            .and_then(|(_, v)| v.parse::<u32>().ok())
    };
    let (Some(seq), Some(len)) = (get("seq"), get("len")) else {
        return false;
    };
    if len == 0 || parts[0].1.contains('S') {
        return false;
    }
    let end = seq.wrapping_add(len);
    let rexmit = (seq.wrapping_sub(*highest) as i32) < 0;
    if (end.wrapping_sub(*highest) as i32) > 0 {
        *highest = end;
    }
    rexmit
}

/// The context of a script line: model state and stimulus kind.
fn context(lines: &[Line], case: &Case, line: usize) -> (String, Option<usize>) {
    let Some(l) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return ("open.start".into(), None);
    };
    match l.step {
        Some(i) => {
            let tag = if l.old_ack { "-oldack" } else { "" };
            (
                format!("{}.{}{tag}", l.state, stim_kind(&case.steps[i].stim)),
                Some(i),
            )
        }
        None => {
            let open = match case.prefix.open {
                Open::Passive => "passive",
                Open::Active => "active",
            };
            (format!("open.{open}"), None)
        }
    }
}

/// Every difference between Linux's normalized trace and the other DUT's,
/// stimulus by stimulus.
pub fn compare(case: &Case, linux: &[NormEvent], other: &[NormEvent]) -> Vec<Finding> {
    let lines = render_lines(case);
    let (mut gl, mut go) = (groups(linux), groups(other));
    drop_boundary_races(&mut gl, &mut go);
    let mut out = Vec::new();
    // The highest sequence number each DUT has sent so far: a data
    // segment starting below it is a retransmission.
    let (mut hl, mut ho) = (0u32, 0u32);
    for (a, b) in gl.iter().zip(&go) {
        let (ctx, step) = context(&lines, case, a.line);
        let mut push = |what: String, l: String, o: String| {
            out.push(Finding {
                signature: format!("{ctx}.{what}"),
                step,
                linux: l,
                other: o,
            })
        };
        if a.line != b.line {
            push(
                "order".into(),
                format!("line {}", a.line),
                format!("line {}", b.line),
            );
            break;
        }
        if a.result != b.result {
            push(
                "result".into(),
                a.result.clone().unwrap_or_default(),
                b.result.clone().unwrap_or_default(),
            );
        }
        let n = a.outs.len().max(b.outs.len());
        for j in 0..n {
            let (x, y) = (a.outs.get(j), b.outs.get(j));
            let rx = x.is_some_and(|x| is_rexmit(x, &mut hl));
            let ry = y.is_some_and(|y| is_rexmit(y, &mut ho));
            let re = if rx || ry { "rexmit-" } else { "" };
            match (x, y) {
                (Some(x), Some(y)) => {
                    if let Some(f) = differing_field(x, y) {
                        push(format!("{re}{f}"), event_text(x), event_text(y));
                    }
                }
                (Some(x), None) => push(
                    format!("{re}missing-{}", flags_of(x)),
                    event_text(x),
                    "(nothing)".into(),
                ),
                (None, Some(y)) => push(
                    format!("{re}extra-{}", flags_of(y)),
                    "(nothing)".into(),
                    event_text(y),
                ),
                (None, None) => {}
            }
        }
        // After a segment with a too-old ACK that Linux may have taken
        // (see `gen::old_ack`), the DUTs may no longer hold the same data
        // or TS.Recent, and that shows only later, e.g. in the TSecr of
        // the next ACK (`oracle fuzz`, est.seg-PA.opts): what follows is
        // a consequence, not a finding of its own.
        let old_ack = a
            .line
            .checked_sub(1)
            .and_then(|i| lines.get(i))
            .is_some_and(|l| l.old_ack);
        if old_ack {
            return out;
        }
    }
    if gl.len() != go.len() {
        let (ctx, step) = context(&lines, case, gl.len().min(go.len()));
        out.push(Finding {
            signature: format!("{ctx}.stopped"),
            step,
            linux: format!("{} stimuli ran", gl.len()),
            other: format!("{} stimuli ran", go.len()),
        });
    }
    out
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The declared divergence covering a finding: a row of the divergence
/// table with scenario `fuzz` whose field is a glob over the signature.
pub fn declared_for<'a>(declared: &'a [Declared], f: &Finding) -> Option<&'a Declared> {
    declared
        .iter()
        .find(|d| d.scenario == "fuzz" && glob(&d.field, &f.signature))
}

/// The first finding no declaration covers.
pub fn first_new(declared: &[Declared], findings: &[Finding]) -> Option<Finding> {
    findings
        .iter()
        .find(|f| declared_for(declared, f).is_none())
        .cloned()
}

/// Settings of a fuzzing run.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Seed of the first case; case `i` uses `seed + i`.
    pub seed: u64,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// Cases run at once.
    pub jobs: usize,
    /// At most this many stimuli per case.
    pub steps: usize,
    /// Where findings are written.
    pub out: PathBuf,
    /// The reference DUT and the one under test.
    pub duts: [DutKind; 2],
    /// The declared divergences.
    pub declared: Vec<Declared>,
    /// Runs a shrink may spend.
    pub shrink_budget: usize,
    /// The command line, for the header of written scripts.
    pub command: String,
}

/// A written finding.
#[derive(Debug, Clone)]
pub struct Written {
    /// Its signature.
    pub signature: String,
    /// The script.
    pub path: PathBuf,
    /// Whether the written script passed on Linux when replayed.
    pub replays_on_linux: Result<(), String>,
}

/// What a fuzzing run did.
#[derive(Debug, Clone, Default)]
pub struct FuzzSummary {
    /// Cases run (both DUTs).
    pub cases: u64,
    /// Cases that could not run (setup error, unsupported, parse).
    pub skipped: u64,
    /// Cases whose only differences are declared.
    pub declared: u64,
    /// Cases showing an undeclared signature already found (this run or an
    /// existing file).
    pub known: u64,
    /// Undeclared differences that did not reproduce on a second run.
    pub flaky: u64,
    /// New findings, written.
    pub written: Vec<Written>,
    /// Wall time.
    pub elapsed: Duration,
    /// Why cases were skipped (first few).
    pub skip_reasons: Vec<String>,
    /// Per declared row (its signature glob): the cases whose differences
    /// it covered, and the seeds of the first few, to replay.
    pub declared_rows: std::collections::BTreeMap<String, (u64, Vec<u64>)>,
}

impl FuzzSummary {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A file name for a signature.
pub fn file_name(sig: &str) -> String {
    let s: String = sig
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{s}.pkt")
}

/// Signatures already written into `dir` (their file names).
fn existing(dir: &Path) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(stem) = n.strip_suffix(".pkt") {
                out.insert(stem.to_string());
            }
        }
    }
    out
}

enum Outcome {
    Skipped(String),
    Agree,
    /// Only declared differences: the globs of the rows that covered them.
    Declared(Vec<String>),
    Known,
    Flaky,
    New(Written),
}

fn verdict_ok(r: &RunResult) -> Result<(), String> {
    match &r.verdict {
        Verdict::Passed => Ok(()),
        Verdict::Failed(f) => Err(format!("{}: {f}", r.dut)),
        Verdict::Unsupported { what, .. } => Err(format!("{}: unsupported {what}", r.dut)),
    }
}

/// The first undeclared signature of one run of `case` (`None`: agree or
/// only declared differences; `Err`: the case could not run).
fn probe(opts: &FuzzOptions, case: &Case) -> Result<Option<(Finding, [DutRun; 2])>, String> {
    let runs = run_pair(opts.duts, case)?;
    // The reference must have run: a case Linux cannot run says nothing.
    verdict_ok(&runs[0].result.clone())?;
    let findings = compare(case, &runs[0].norm, &runs[1].norm);
    Ok(first_new(&opts.declared, &findings).map(|f| (f, runs)))
}

fn one_case(opts: &FuzzOptions, seed: u64, found: &Mutex<HashSet<String>>) -> Outcome {
    let case = gen::generate(seed, opts.steps);
    let runs = match run_pair(opts.duts, &case) {
        Ok(r) => r,
        Err(e) => return Outcome::Skipped(e),
    };
    if let Err(e) = verdict_ok(&runs[0].result) {
        return Outcome::Skipped(e);
    }
    let findings = compare(&case, &runs[0].norm, &runs[1].norm);
    if findings.is_empty() {
        return Outcome::Agree;
    }
    for f in &findings {
        tracing::debug!(seed, signature = %f.signature, linux = %f.linux, other = %f.other, "difference");
    }
    let Some(first) = first_new(&opts.declared, &findings) else {
        let mut rows: Vec<String> = findings
            .iter()
            .filter_map(|f| declared_for(&opts.declared, f))
            .map(|d| d.field.clone())
            .collect();
        rows.sort();
        rows.dedup();
        return Outcome::Declared(rows);
    };
    let sig = first.signature.clone();
    let stem = file_name(&sig);
    let stem = stem.trim_end_matches(".pkt").to_string();
    if found.lock().map(|f| f.contains(&stem)).unwrap_or(true) {
        return Outcome::Known;
    }
    // Confirm: the same signature on a second run (timing noise is not a
    // finding).
    match probe(opts, &case) {
        Ok(Some((f, _))) if f.signature == sig => {}
        _ => return Outcome::Flaky,
    }
    // Claim the signature so that no other job shrinks it too.
    match found.lock() {
        Ok(mut f) => {
            if !f.insert(stem) {
                return Outcome::Known;
            }
        }
        Err(_) => return Outcome::Known,
    }
    let (small, _) = shrink::shrink(&case, &sig, opts.shrink_budget, |c| {
        probe(opts, c).ok().flatten().map(|(f, _)| f.signature)
    });
    // The final run is the one written; if the shrunk case lost the
    // signature this time, fall back to the original case.
    let (case, finding, runs) = match probe(opts, &small) {
        Ok(Some((f, r))) if f.signature == sig => (small, f, r),
        _ => match probe(opts, &case) {
            Ok(Some((f, r))) => (case, f, r),
            _ => return Outcome::Flaky,
        },
    };
    let path = opts.out.join(file_name(&sig));
    let text = write::script(&case, &runs[0].result, &finding, opts, runs[1].result.dut);
    if let Err(e) = std::fs::create_dir_all(&opts.out).and_then(|_| std::fs::write(&path, &text)) {
        return Outcome::Skipped(format!("writing {}: {e}", path.display()));
    }
    let replays_on_linux = write::replay_on_linux(&path);
    Outcome::New(Written {
        signature: sig,
        path,
        replays_on_linux,
    })
}

/// Runs the fuzzer until `cases` or `time` is reached; `progress` gets a
/// line now and then.
pub fn fuzz(opts: &FuzzOptions, progress: &(dyn Fn(&str) + Sync)) -> FuzzSummary {
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let found = Mutex::new(existing(&opts.out));
    let summary = Mutex::new(FuzzSummary::default());
    let last_progress = Mutex::new(Instant::now());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if opts.time.is_some_and(|t| start.elapsed() >= t) {
                    stop.store(true, Ordering::SeqCst);
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if opts.cases.is_some_and(|n| i >= n) {
                    break;
                }
                let outcome = one_case(opts, opts.seed.wrapping_add(i), &found);
                let Ok(mut sm) = summary.lock() else {
                    break;
                };
                match outcome {
                    Outcome::Skipped(why) => {
                        sm.skipped += 1;
                        if sm.skip_reasons.len() < 5 {
                            sm.skip_reasons.push(format!("seed {}: {why}", opts.seed.wrapping_add(i)));
                        }
                    }
                    Outcome::Agree => sm.cases += 1,
                    Outcome::Declared(rows) => {
                        sm.cases += 1;
                        sm.declared += 1;
                        for r in rows {
                            let e = sm.declared_rows.entry(r).or_default();
                            e.0 += 1;
                            if e.1.len() < 3 {
                                e.1.push(opts.seed.wrapping_add(i));
                            }
                        }
                    }
                    Outcome::Known => {
                        sm.cases += 1;
                        sm.known += 1;
                    }
                    Outcome::Flaky => {
                        sm.cases += 1;
                        sm.flaky += 1;
                    }
                    Outcome::New(w) => {
                        sm.cases += 1;
                        progress(&format!("new divergence {} → {}", w.signature, w.path.display()));
                        sm.written.push(w);
                    }
                }
                if let Ok(mut lp) = last_progress.lock() {
                    if lp.elapsed() >= Duration::from_secs(10) {
                        *lp = Instant::now();
                        let el = start.elapsed().as_secs_f64();
                        progress(&format!(
                            "{:>5.0}s  {} cases  {:.2} cases/s  {} new, {} known, {} declared, {} flaky, {} skipped",
                            el,
                            sm.cases,
                            sm.cases as f64 / el.max(1e-9),
                            sm.written.len(),
                            sm.known,
                            sm.declared,
                            sm.flaky,
                            sm.skipped
                        ));
                    }
                }
            });
        }
    });
    let mut sm = summary.into_inner().unwrap_or_default();
    sm.elapsed = start.elapsed();
    sm
}

/// The timing tolerance written into findings: Linux's delayed-ACK timer
/// fires on a 4 ms jiffy tick and later on a busy host (as tcp/delayed-ack).
pub const WRITTEN_TOLERANCE: Tolerance = Tolerance {
    usecs: 10_000,
    percent: 12.5,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::parse_declared;

    fn ev(dir: char, line: Option<usize>, tcp: &str) -> NormEvent {
        NormEvent {
            at: 0,
            line,
            dir,
            fields: if dir == '=' {
                vec![
                    ("_call", "read(4, ..., 1000)".into()),
                    ("_result", tcp.into()),
                ]
            } else {
                vec![("_tcp", tcp.into()), ("ip", "[ttl 64 DF]".into())]
            },
            ts_rel: None,
            ts_zero: None,
        }
    }

    #[test]
    fn glob_matches() {
        assert!(glob("*.win", "est.seg-A.win"));
        assert!(glob("est.*.win", "est.seg-A.win"));
        assert!(!glob("est.*.win", "finin.seg-A.win"));
        assert!(glob("finin.seg-FA*", "finin.seg-FA.missing-A"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exact2"));
    }

    #[test]
    fn fields_are_ranked() {
        let a = ev('>', None, ". 1:1(0) ack 101 win 502");
        let b = ev('>', None, ". 1:1(0) ack 101 win 510");
        assert_eq!(differing_field(&a, &b), Some("win"));
        let c = ev('>', None, "F. 1:1(0) ack 101 win 510");
        assert_eq!(differing_field(&a, &c), Some("flags"));
        let d = ev('>', None, ". 1:1(0) ack 102 win 510");
        assert_eq!(differing_field(&a, &d), Some("ack"));
        assert_eq!(differing_field(&a, &a), None);
    }

    /// A finding the table declares is not reported again; others are.
    #[test]
    fn declared_findings_are_skipped() {
        let case = gen::generate(3, 4);
        let n = render_lines(&case).len();
        // The last line's group: Linux sends an ACK, the other DUT a
        // different window and an extra FIN.
        let linux = vec![
            ev('<', Some(n), "x"),
            ev('>', None, ". 1:1(0) ack 1 win 502"),
        ];
        let other = vec![
            ev('<', Some(n), "x"),
            ev('>', None, ". 1:1(0) ack 1 win 510"),
            ev('>', None, "F. 1:1(0) ack 1 win 510"),
        ];
        let findings = compare(&case, &linux, &other);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings[0].signature.ends_with(".win"), "{findings:?}");
        assert!(findings[1].signature.ends_with(".extra-FA"), "{findings:?}");
        let table = "| scenario | line | field | reason |\n|---|---|---|---|\n\
                     | fuzz | * | *.win | window growth is not modelled (tcp_grow_window) |\n";
        let declared = parse_declared("t", table).expect("parses");
        let first = first_new(&declared, &findings).expect("the FIN is not declared");
        assert!(first.signature.ends_with(".extra-FA"));
        assert_eq!(first_new(&declared, &findings[..1]), None);
        // A row of another scenario does not apply.
        let other_row = table.replace("| fuzz |", "| tcp/x |");
        let declared = parse_declared("t", &other_row).expect("parses");
        assert_eq!(
            first_new(&declared, &findings[..1]),
            Some(findings[0].clone())
        );
    }

    #[test]
    fn retransmissions_are_named() {
        let case = gen::generate(3, 4);
        let n = render_lines(&case).len();
        let first = ev('>', None, "P. 1:2(1) ack 1 win 502");
        let linux = vec![
            first.clone(),
            ev('<', Some(n), "x"),
            ev('>', None, "P. 1:2(1) ack 1 win 502"),
        ];
        let other = vec![
            first,
            ev('<', Some(n), "x"),
            ev('>', None, ". 1:3(2) ack 1 win 502"),
        ];
        let f = compare(&case, &linux, &other);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].signature.ends_with(".rexmit-flags"), "{f:?}");
    }

    fn at(mut e: NormEvent, t: Micros) -> NormEvent {
        e.at = t;
        e
    }

    /// A retransmission one DUT's exact timer sends just before the next
    /// stimulus, which Linux's coarser timer wheel would send after it, is
    /// not a finding; the same repeat as an answer to its stimulus, or a
    /// new segment late in the group, still is.
    #[test]
    fn boundary_races_are_not_findings() {
        let case = gen::generate(3, 4);
        let n = render_lines(&case).len();
        assert!(n >= 2);
        let fin = ev('>', None, "F. 1:1(0) ack 1 win 502");
        let prefix = |x: &NormEvent| vec![at(ev('<', Some(n - 1), "x"), 0), at(x.clone(), 100)];
        // Stimulus n-1 at 0, its answer the FIN; stimulus n at 400 ms.
        let mut linux = prefix(&fin);
        linux.push(at(ev('<', Some(n), "x"), 400_000));
        let mut other = prefix(&fin);
        // The FIN again, 9 ms before the next stimulus: a timer's race.
        other.push(at(fin.clone(), 391_000));
        other.push(at(ev('<', Some(n), "x"), 400_000));
        assert_eq!(compare(&case, &linux, &other), vec![]);
        // Linux sends it just after the stimulus: both copies drop.
        let mut linux2 = linux.clone();
        linux2.push(at(fin.clone(), 405_000));
        assert_eq!(compare(&case, &linux2, &other), vec![]);
        // Also behind both DUTs' answer to that stimulus, with a third
        // stimulus 200 ms later (so that the copy is not trailing).
        assert!(n >= 3);
        let ack = ev('>', None, ". 2:2(0) ack 1 win 502");
        let three = |race: Option<Micros>, copy: Option<Micros>| {
            let mut t = vec![at(ev('<', Some(n - 2), "x"), 0), at(fin.clone(), 100)];
            t.extend(race.map(|r| at(fin.clone(), r)));
            t.push(at(ev('<', Some(n - 1), "x"), 400_000));
            t.push(at(ack.clone(), 400_100));
            t.extend(copy.map(|c| at(fin.clone(), c)));
            t.push(at(ev('<', Some(n), "x"), 600_000));
            t
        };
        let other3 = three(Some(391_000), None);
        assert_eq!(compare(&case, &three(None, Some(416_000)), &other3), vec![]);
        // Past the slack after the stimulus it is a difference.
        assert_eq!(
            compare(&case, &three(None, Some(450_000)), &other3).len(),
            1
        );
        // The copy two stimuli on, still within the slack of the
        // boundary (stimuli 10 ms apart).
        assert!(n >= 4);
        let four = |race: Option<Micros>, copy: Option<Micros>| {
            let mut t = vec![at(ev('<', Some(n - 3), "x"), 0), at(fin.clone(), 100)];
            t.extend(race.map(|r| at(fin.clone(), r)));
            t.push(at(ev('<', Some(n - 2), "x"), 400_000));
            t.push(at(ev('<', Some(n - 1), "x"), 410_000));
            t.extend(copy.map(|c| at(fin.clone(), c)));
            t.push(at(ev('<', Some(n), "x"), 600_000));
            t
        };
        let other4 = four(Some(391_000), None);
        assert_eq!(compare(&case, &four(None, Some(422_000)), &other4), vec![]);
        assert_eq!(compare(&case, &four(None, Some(450_000)), &other4).len(), 1);
        // 100 ms before the stimulus: a difference.
        let mut early = prefix(&fin);
        early.push(at(fin.clone(), 300_000));
        early.push(at(ev('<', Some(n), "x"), 400_000));
        let f = compare(&case, &linux, &early);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].signature.ends_with(".extra-FA"), "{f:?}");
        // A new segment late in the group is not a retransmission.
        let mut new_seg = prefix(&fin);
        new_seg.push(at(ev('>', None, "P. 1:2(1) ack 1 win 502"), 391_000));
        new_seg.push(at(ev('<', Some(n), "x"), 400_000));
        let f = compare(&case, &linux, &new_seg);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].signature.ends_with(".extra-PA"), "{f:?}");
    }

    /// An in-sequence segment whose ACK precedes the DUT's ISN + 1 is
    /// tagged `-oldack`, and a case stops being compared after such a
    /// stimulus (the DUTs may then hold different data or TS.Recent).
    #[test]
    fn too_old_acks_are_tagged_and_end_the_comparison() {
        let seg = |flags, seq_off, ack_off| gen::Seg {
            flags,
            seq_off,
            ack_off,
            len: 1,
            win: 502,
            ts: false,
            sack: None,
        };
        let m = gen::Model {
            tb_nxt: 1,
            dut_nxt: 1,
            ..gen::Model::default()
        };
        assert!(gen::old_ack(&seg(0x18, 0, -65_535), &m));
        assert!(gen::old_ack(&seg(0x10, 0, -1), &m), "ACK = ISN");
        assert!(!gen::old_ack(&seg(0x18, 0, 0), &m), "ACK = SND.NXT");
        assert!(!gen::old_ack(&seg(0x18, 5, -65_535), &m), "not in sequence");
        assert!(!gen::old_ack(&seg(0x19, 0, -65_535), &m), "FIN");
        assert!(!gen::old_ack(&seg(0x18, 0, -(1 << 31)), &m), "2^31 away");
        let one_sent = gen::Model {
            dut_nxt: 2,
            ..m.clone()
        };
        // 2^31 - 1 behind SND.NXT (est.seg-A.missing-A, ack 2147483651):
        // before ISN + 1, and not after SND.NXT.
        assert!(gen::old_ack(&seg(0x10, 0, 2_147_483_649), &one_sent));
        // 2^31 behind the modelled SND.NXT, 2^31 - 1 behind ISN + 1: the
        // written byte may not have left, so it is tagged too.
        assert!(gen::old_ack(&seg(0x10, 0, 2_147_483_648), &one_sent));
        // ISN + 1 itself is not before ISN + 1.
        assert!(!gen::old_ack(&seg(0x10, 0, -1), &one_sent));
        // est.seg-PA.missing-A (case seed 121109): 20,000 bytes written,
        // 5,360 sent, the ACK 2^31 + 20,000 past ISN + 1.
        let written = gen::Model {
            dut_nxt: 20_001,
            ..m.clone()
        };
        assert!(gen::old_ack(&seg(0x18, 0, 2_147_483_648), &written));
        let later = gen::Model {
            dut_nxt: 1001,
            ..m.clone()
        };
        // 1000 behind SND.NXT is ISN + 1: only old, perhaps acceptable.
        assert!(!gen::old_ack(&seg(0x18, 0, -1000), &later));
        assert!(gen::old_ack(&seg(0x18, 0, -1001), &later));

        let step = |s| gen::Step {
            gap_ms: 10,
            stim: gen::Stim::Seg(s),
        };
        let case = Case {
            seed: 0,
            prefix: gen::Prefix {
                open: Open::Passive,
                mss: None,
                wscale: None,
                sack_ok: false,
                ts: false,
                win: 65535,
                sockopts: gen::SockOpts::default(),
            },
            steps: vec![step(seg(0x18, 0, -65_535)), step(seg(0x18, 0, 0))],
        };
        let lines = render_lines(&case);
        let n = lines.len();
        assert!(lines[n - 2].old_ack && !lines[n - 1].old_ack);
        let run = |first: &str, second: &str| {
            vec![
                ev('<', Some(n - 1), "x"),
                ev('>', None, first),
                ev('<', Some(n), "x"),
                ev('>', None, second),
            ]
        };
        let linux = run(". 1:1(0) ack 3 win 502", ". 1:1(0) ack 4 win 502");
        let other = run(". 1:1(0) ack 2 win 502", ". 1:1(0) ack 3 win 502");
        let f = compare(&case, &linux, &other);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].signature, "est.seg-PA-oldack.ack");
        // Without a difference there, what follows is still not compared:
        // the hidden state (TS.Recent, data taken) may differ.
        let other = run(". 1:1(0) ack 3 win 502", ". 1:1(0) ack 3 win 502");
        let f = compare(&case, &linux, &other);
        assert!(f.is_empty(), "{f:?}");
        // Without the tag, the same difference is a finding.
        let case = Case {
            steps: vec![step(seg(0x18, 0, 0)), step(seg(0x18, 0, 0))],
            ..case
        };
        let lines = render_lines(&case);
        assert!(!lines.iter().any(|l| l.old_ack));
        let f = compare(&case, &linux, &other);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].signature, "est.seg-PA.ack");
    }

    #[test]
    fn call_results_are_compared() {
        let case = gen::generate(5, 4);
        let n = render_lines(&case).len();
        let linux = vec![ev('=', Some(n), "= 100")];
        let other = vec![ev('=', Some(n), "= -1 EAGAIN")];
        let f = compare(&case, &linux, &other);
        assert_eq!(f.len(), 1);
        assert!(f[0].signature.ends_with(".result"), "{f:?}");
        assert_eq!(compare(&case, &linux, &linux), vec![]);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name("est.seg-A/x.win"), "est.seg-A_x.win.pkt");
    }
}
