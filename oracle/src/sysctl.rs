//! Backtick shell commands on the stack: the sysctl assignments public
//! packetdrill scripts make (directly, or through the `defaults.sh` the
//! kernel's selftests and Google's suite run first) mapped onto the stack's
//! [`Profile`].
//!
//! On the Linux DUT a backtick command runs as a shell command inside the
//! DUT's namespace. The stack has no shell, so [`interpret`] reads the
//! command (and a shell file it names) line by line:
//! - `sysctl [-q] [-w] NAME=VALUE …` and `echo VALUE > /proc/sys/…` set the
//!   profile field that mirrors NAME, when [`apply`] knows one;
//! - a value the stack cannot model (`tcp_congestion_control=cubic`, TLP via
//!   `tcp_early_retrans=3`, …) and every other command are *reported*: they
//!   come back as notes, and the run goes on with the stack's behaviour.
//!
//! Settings take effect for connections created after them, as on Linux
//! (sockets copy their defaults when they are made).

use std::path::Path;

use stack::config::Profile;
use stack::time::Duration;

/// What interpreting one command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellOutcome {
    /// Settings applied to the profile, as `name=value`.
    pub applied: Vec<String>,
    /// Everything not applied, one line each: a setting the stack cannot
    /// model or a command it does not run, with the reason.
    pub notes: Vec<String>,
}

/// Applies `cmd` (a backtick command of a script in `dir`) to `profile`.
pub fn interpret(cmd: &str, dir: &Path, profile: &mut Profile) -> ShellOutcome {
    let mut out = ShellOutcome::default();
    interpret_text(cmd, dir, profile, &mut out, 0);
    out
}

/// Shell files may source each other; this bounds the nesting.
const MAX_DEPTH: usize = 4;

fn interpret_text(text: &str, dir: &Path, p: &mut Profile, out: &mut ShellOutcome, depth: usize) {
    for raw in text.lines().flat_map(|l| l.split(';')) {
        // A `#` after a blank starts a comment (`sysctl -q x=1  # why`).
        let raw = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(i) => &raw[..i],
            None => raw,
        };
        let line = strip_redirections(raw.trim());
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = shell_words(&line);
        let Some(first) = words.first().map(String::as_str) else {
            continue;
        };
        match first {
            "sysctl" => {
                for w in words[1..].iter().filter(|w| !w.starts_with('-')) {
                    match w.split_once('=') {
                        Some((name, value)) => set(p, name, value, out),
                        None => out
                            .notes
                            .push(format!("`sysctl {w}` reads a value: ignored")),
                    }
                }
            }
            "echo" if words.len() == 4 && words[2] == ">" => {
                match words[3].strip_prefix("/proc/sys/") {
                    Some(path) => set(p, &path.replace('/', "."), &words[1], out),
                    None => out.notes.push(format!("`{line}`: not run on the stack")),
                }
            }
            // `ip tcp_metrics flush`: the stack keeps no per-destination
            // metrics (the Linux DUT pins tcp_no_metrics_save=1 too).
            "ip" if words.get(1).map(String::as_str) == Some("tcp_metrics") => {}
            "set" | "true" | ":" => {}
            // The selftests' set_sysctls.py: its arguments are
            // `/proc/sys/NAME=VALUE` assignments.
            f if f.ends_with(".py") || words.get(1).is_some_and(|w| w.ends_with(".py")) => {
                for w in &words[1..] {
                    match w.strip_prefix("/proc/sys/").and_then(|a| a.split_once('=')) {
                        Some((name, value)) => set(p, name, value, out),
                        None if w.ends_with(".py") => {}
                        None => out
                            .notes
                            .push(format!("`{line}`: argument `{w}` not understood")),
                    }
                }
            }
            _ => {
                // A shell file: `./defaults.sh`, `sh file`, `bash file`, `. file`.
                let file = match first {
                    "sh" | "bash" | "." | "source" => words.get(1).map(String::as_str),
                    _ => Some(first),
                };
                let path = file.map(|f| dir.join(f));
                match path.as_deref().map(std::fs::read_to_string) {
                    Some(Ok(body)) if depth < MAX_DEPTH => {
                        let sub = path.as_deref().and_then(Path::parent).unwrap_or(dir);
                        interpret_text(&body, sub, p, out, depth + 1);
                    }
                    _ => out.notes.push(format!("`{line}`: not run on the stack")),
                }
            }
        }
    }
}

/// Drops `> /dev/null`, `2>&1` and similar redirections to /dev/null.
fn strip_redirections(line: &str) -> String {
    let mut s = line.to_string();
    for r in [
        "2>&1",
        "> /dev/null",
        ">/dev/null",
        "2>/dev/null",
        "2> /dev/null",
    ] {
        s = s.replace(r, "");
    }
    s.trim().to_string()
}

/// Splits a command line into words, honouring double and single quotes and
/// expanding `$((…))` integer arithmetic (all defaults.sh uses).
fn shell_words(line: &str) -> Vec<String> {
    let expanded = expand_arithmetic(line);
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in expanded.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Replaces each `$((EXPR))` by its value (integers, + - * / and
/// parentheses); an expression it cannot evaluate is left as it is.
fn expand_arithmetic(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("$((") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        match after.find("))") {
            Some(end) => {
                match arith(&after[..end]) {
                    Some(v) => out.push_str(&v.to_string()),
                    None => out.push_str(&rest[start..start + 3 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A tiny integer expression evaluator (precedence climbing).
fn arith(expr: &str) -> Option<i64> {
    let toks: Vec<char> = expr.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let v = arith_sum(&toks, &mut pos, 0)?;
    (pos == toks.len()).then_some(v)
}

fn arith_sum(t: &[char], pos: &mut usize, depth: usize) -> Option<i64> {
    let mut v = arith_product(t, pos, depth)?;
    while let Some(&op @ ('+' | '-')) = t.get(*pos) {
        *pos += 1;
        let r = arith_product(t, pos, depth)?;
        v = if op == '+' {
            v.checked_add(r)?
        } else {
            v.checked_sub(r)?
        };
    }
    Some(v)
}

fn arith_product(t: &[char], pos: &mut usize, depth: usize) -> Option<i64> {
    let mut v = arith_atom(t, pos, depth)?;
    while let Some(&op @ ('*' | '/')) = t.get(*pos) {
        *pos += 1;
        let r = arith_atom(t, pos, depth)?;
        v = if op == '*' {
            v.checked_mul(r)?
        } else {
            v.checked_div(r)?
        };
    }
    Some(v)
}

fn arith_atom(t: &[char], pos: &mut usize, depth: usize) -> Option<i64> {
    if depth > 16 {
        return None;
    }
    match t.get(*pos)? {
        '(' => {
            *pos += 1;
            let v = arith_sum(t, pos, depth + 1)?;
            (t.get(*pos) == Some(&')')).then(|| *pos += 1)?;
            Some(v)
        }
        '-' => {
            *pos += 1;
            arith_atom(t, pos, depth + 1).and_then(i64::checked_neg)
        }
        c if c.is_ascii_digit() => {
            let start = *pos;
            while t.get(*pos).is_some_and(char::is_ascii_digit) {
                *pos += 1;
            }
            t[start..*pos].iter().collect::<String>().parse().ok()
        }
        _ => None,
    }
}

fn set(p: &mut Profile, name: &str, value: &str, out: &mut ShellOutcome) {
    let name = name.replace('/', ".");
    match apply(p, &name, value.trim()) {
        Ok(()) => out.applied.push(format!("{name}={value}")),
        Err(why) => out.notes.push(format!("{name}={value}: {why}")),
    }
}

/// Sets the profile field that mirrors the Linux sysctl `name`; `Err` says
/// why the value was not applied (the stack keeps its own behaviour).
pub fn apply(p: &mut Profile, name: &str, value: &str) -> Result<(), String> {
    let key = name.strip_prefix("net.ipv4.").unwrap_or(name);
    let ints: Vec<i64> = value
        .split_whitespace()
        .map(|w| match w.strip_prefix("0x") {
            Some(h) => i64::from_str_radix(h, 16),
            None => w.parse(),
        })
        .collect::<Result<_, _>>()
        .map_err(|_| format!("value `{value}` is not a number"))
        .or_else(|e| match key {
            "tcp_congestion_control" | "tcp_fastopen_key" => Ok(Vec::new()),
            _ => Err(e),
        })?;
    let one = || -> Result<i64, String> {
        match ints.as_slice() {
            [v] => Ok(*v),
            _ => Err(format!("expected one number, got `{value}`")),
        }
    };
    let flag = || one().map(|v| v != 0);
    let secs = || one().map(|v| Duration::from_secs(v.max(0)));
    let uint =
        || one().and_then(|v| u32::try_from(v).map_err(|_| format!("`{value}` out of range")));
    match key {
        "tcp_sack" => p.sack = flag()?,
        "tcp_timestamps" => p.timestamps = flag()?,
        "tcp_window_scaling" => p.window_scaling = flag()?,
        "tcp_syn_retries" => p.syn_retries = uint()?,
        "tcp_synack_retries" => p.synack_retries = uint()?,
        "tcp_syn_linear_timeouts" => p.syn_linear_timeouts = uint()?,
        "tcp_retries2" => p.retries2 = uint()?,
        "tcp_fin_timeout" => p.fin_wait2_timeout = secs()?,
        "tcp_keepalive_time" => p.keepalive_time = secs()?,
        "tcp_keepalive_intvl" => p.keepalive_intvl = secs()?,
        "tcp_keepalive_probes" => p.keepalive_probes = uint()?,
        "tcp_reordering" => p.dupthresh = uint()?,
        "tcp_slow_start_after_idle" => p.slow_start_after_idle = flag()?,
        "tcp_min_snd_mss" => p.min_snd_mss = uint()?,
        "tcp_invalid_ratelimit" => p.invalid_ratelimit = Duration::from_millis(uint()?.into()),
        "tcp_max_syn_backlog" => p.max_syn_backlog = uint()?,
        "ip_default_ttl" => {
            p.ttl = u8::try_from(one()?).map_err(|_| format!("`{value}` out of range"))?
        }
        // tcp_recovery bit 0 is RACK (RFC 8985); the stack models its
        // recovery-time loss line only.
        "tcp_recovery" => p.rack = one()? & 1 != 0,
        // tcp_rmem = "min default max": the default buffer sizes the initial
        // window (halved by tcp_adv_win_scale = 1) and the maximum gives the
        // window scale, ilog2(max(rmem[2], rmem_max = 212992)) - 15 as
        // tcp_select_initial_window computes it.
        "tcp_rmem" => match ints.as_slice() {
            [_, def, max] if *def > 0 && *max > 0 => {
                p.recv_buffer = *def as usize;
                p.rcv_space = (*def / 2) as u32;
                let space = (*max).max(212_992) as u64;
                p.window_scale = (space.ilog2().saturating_sub(15)).min(14) as u8;
            }
            _ => return Err(format!("expected \"min default max\", got `{value}`")),
        },
        "tcp_wmem" => match ints.as_slice() {
            [_, def, max] if *def > 0 && *max > 0 => {
                p.send_buffer = *def as usize;
                p.send_buffer_max = (*max).max(*def) as usize;
            }
            _ => return Err(format!("expected \"min default max\", got `{value}`")),
        },
        "tcp_congestion_control" => {
            if value != "reno" {
                return Err(format!("the stack has reno only, not {value}"));
            }
        }
        // Values that match what the stack does are accepted; others are not
        // modelled.
        _ => {
            let ok = match key {
                "tcp_early_retrans" => Some((one()? == 0, "tail loss probes are not modelled")),
                "tcp_frto" => Some((one()? == 0, "F-RTO (RFC 5682) is not modelled")),
                "tcp_dsack" => Some((one()? == 1, "D-SACK is always generated")),
                "tcp_fack" => Some((one()? == 0, "FACK is gone from Linux too")),
                "tcp_ecn" => Some((one()? == 0, "ECN is not modelled")),
                "tcp_syncookies" => Some((one()? == 1, "SYN cookies are not modelled")),
                "tcp_tso_win_divisor" => Some((one()? == 3, "GSO deferral uses Linux's default")),
                "tcp_notsent_lowat" => Some((
                    one()? == u32::MAX as i64,
                    "TCP_NOTSENT_LOWAT is not modelled",
                )),
                "tcp_no_metrics_save" => Some((true, "")),
                "tcp_pacing_ss_ratio" | "tcp_pacing_ca_ratio" => {
                    Some((true, "pacing is off without the fq qdisc"))
                }
                "tcp_fastopen" | "tcp_fastopen_key" => {
                    Some((false, "TCP Fast Open is not modelled"))
                }
                _ => None,
            };
            match ok {
                Some((true, _)) => {}
                Some((false, why)) => return Err(why.to_string()),
                None => return Err("no counterpart in the stack".to_string()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_quotes() {
        assert_eq!(
            shell_words(r#"sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))""#),
            vec!["sysctl", "-q", "net.ipv4.tcp_rmem=4096 540000 15728640"]
        );
        assert_eq!(arith("(1+2)*-3"), Some(-9));
        assert_eq!(arith("1/0"), None);
        assert_eq!(arith("((((((((((((((((((1))))))))))))))))))"), None);
    }

    #[test]
    fn defaults_file_is_read_and_reported() {
        let dir = std::env::temp_dir().join(format!("oracle-sysctl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("defaults.sh"),
            "# comment\nip tcp_metrics flush all > /dev/null 2>&1\n\
             sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\n\
             sysctl -q net.ipv4.tcp_congestion_control=cubic\n\
             sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1\n\
             tc qdisc add dev tun0 root pfifo\n",
        )
        .unwrap();
        let mut p = Profile::linux();
        let out = interpret("./defaults.sh", &dir, &mut p);
        std::fs::remove_dir_all(&dir).unwrap();
        // tcp_select_initial_window: ilog2(15 MiB) - 15 = 8.
        assert_eq!(p.window_scale, 8);
        assert_eq!(p.rcv_space, 270_000);
        assert_eq!(
            out.applied,
            vec![
                "net.ipv4.tcp_rmem=4096 540000 15728640",
                "net.ipv4.tcp_recovery=1"
            ]
        );
        assert_eq!(out.notes.len(), 3, "{:?}", out.notes);
        assert!(out.notes[0].contains("cubic"));
        assert!(out.notes[1].contains("tail loss"));
        assert!(out.notes[2].starts_with("`tc qdisc"));
    }

    #[test]
    fn set_sysctls_py_and_hex() {
        let mut p = Profile::linux();
        let out = interpret(
            "../common/set_sysctls.py /proc/sys/net/ipv4/tcp_reordering=5 \
             /proc/sys/net/ipv4/tcp_fastopen=0x3",
            Path::new("/nonexistent"),
            &mut p,
        );
        assert_eq!(p.dupthresh, 5);
        assert_eq!(out.applied, vec!["net.ipv4.tcp_reordering=5"]);
        assert_eq!(
            out.notes,
            vec!["net.ipv4.tcp_fastopen=0x3: TCP Fast Open is not modelled"]
        );
    }

    #[test]
    fn echo_to_proc_and_unknown_files() {
        let mut p = Profile::linux();
        let out = interpret(
            "echo 0 > /proc/sys/net/ipv4/tcp_timestamps; ./missing.sh",
            Path::new("/nonexistent"),
            &mut p,
        );
        assert!(!p.timestamps);
        assert_eq!(out.applied, vec!["net.ipv4.tcp_timestamps=0"]);
        assert_eq!(out.notes, vec!["`./missing.sh`: not run on the stack"]);
    }
}
