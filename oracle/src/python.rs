//! The Python subset of packetdrill's `%{ … }%` blocks that public scripts
//! use to check TCP_INFO: `assert` statements over `tcpi_*` names and
//! integer constants, with arithmetic (`+ - * / // %`), comparisons
//! (chained ones give ranges: `10 <= tcpi_rtt <= 20`), `and`, `or`, `not`
//! and parentheses; `#` comments and blank lines are skipped.
//!
//! packetdrill reads TCP_INFO of the socket under test when the block's time
//! comes and runs the block with the `tcpi_*` fields bound as Python
//! globals; [`check`] does the same against the field list a DUT reports.
//! Anything else (other statements, calls, attributes, strings) is
//! [`Outcome::Unsupported`], naming the construct.

use std::fmt;

/// The result of running a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// An assertion failed: the statement and the values of its names.
    Failed(String),
    /// The block uses something outside the subset, or a name this DUT does
    /// not report.
    Unsupported(String),
}

/// Constants public scripts compare against (include/net/tcp.h,
/// include/net/tcp_states.h).
const CONSTANTS: &[(&str, f64)] = &[
    ("TCP_CA_Open", 0.0),
    ("TCP_CA_Disorder", 1.0),
    ("TCP_CA_CWR", 2.0),
    ("TCP_CA_Recovery", 3.0),
    ("TCP_CA_Loss", 4.0),
    ("TCP_ESTABLISHED", 1.0),
    ("TCP_SYN_SENT", 2.0),
    ("TCP_SYN_RECV", 3.0),
    ("TCP_FIN_WAIT1", 4.0),
    ("TCP_FIN_WAIT2", 5.0),
    ("TCP_TIME_WAIT", 6.0),
    ("TCP_CLOSE", 7.0),
    ("TCP_CLOSE_WAIT", 8.0),
    ("TCP_LAST_ACK", 9.0),
    ("TCP_LISTEN", 10.0),
    ("TCP_CLOSING", 11.0),
    ("True", 1.0),
    ("False", 0.0),
];

/// Bounds the nesting of parentheses and `not`.
const MAX_DEPTH: usize = 32;

/// Runs `code` with `fields` (`tcpi_*` name, value) as its globals.
pub fn check(code: &str, fields: &[(&str, i64)]) -> Outcome {
    check_printing(code, fields, &mut Vec::new(), &mut Vec::new())
}

/// Variables a script's blocks assign (`NAME = EXPR`); they stay for later
/// blocks, as packetdrill runs all blocks in one interpreter.
pub type Vars = Vec<(String, f64)>;

/// As [`check`]; `print(A, B, …)` statements append `A=value B=value` to
/// `printed` (the runner shows them as notes), and `NAME = EXPR` sets a
/// variable in `vars` (at most 64 of them).
pub fn check_printing(
    code: &str,
    fields: &[(&str, i64)],
    vars: &mut Vars,
    printed: &mut Vec<String>,
) -> Outcome {
    // Statements end at a newline or a `;` (strings, which could hold
    // either, are outside the subset); a `\` at the end of a line continues
    // it.
    let joined = code.replace("\\\n", " ");
    for line in joined.lines().flat_map(|l| strip_comment(l).split(';')) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((name, expr)) = line.split_once('=').filter(|(n, e)| {
            let n = n.trim();
            !e.starts_with('=')
                && !n.ends_with(['!', '<', '>'])
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
        }) {
            let toks = match lex(expr) {
                Ok(t) => t,
                Err(e) => return Outcome::Unsupported(e),
            };
            let snapshot = vars.clone();
            let mut p = Parser {
                toks: &toks,
                pos: 0,
                fields,
                vars: &snapshot,
                used: Vec::new(),
            };
            match p.expr(0) {
                Ok(v) if p.pos == toks.len() => {
                    let name = name.trim().to_string();
                    vars.retain(|(n, _)| *n != name);
                    if vars.len() >= 64 {
                        return Outcome::Unsupported("more than 64 python variables".into());
                    }
                    vars.push((name, v));
                    continue;
                }
                Ok(_) => {
                    return Outcome::Unsupported(format!("python expression `{}`", expr.trim()))
                }
                Err(e) => return Outcome::Unsupported(e),
            }
        }
        if let Some(args) = line
            .strip_prefix("print(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let mut shown = Vec::new();
            for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                let toks = match lex(arg) {
                    Ok(t) => t,
                    Err(e) => return Outcome::Unsupported(e),
                };
                let mut p = Parser {
                    toks: &toks,
                    pos: 0,
                    fields,
                    vars,
                    used: Vec::new(),
                };
                match p.expr(0) {
                    Ok(v) if p.pos == toks.len() => shown.push(format!("{arg}={v}")),
                    Ok(_) => return Outcome::Unsupported(format!("python expression `{arg}`")),
                    Err(e) => return Outcome::Unsupported(e),
                }
            }
            printed.push(shown.join(" "));
            continue;
        }
        let Some(rest) = line
            .strip_prefix("assert")
            .filter(|r| r.starts_with(|c: char| c.is_whitespace() || c == '('))
        else {
            return Outcome::Unsupported(format!("python statement `{line}`"));
        };
        let toks = match lex(rest) {
            Ok(t) => t,
            Err(e) => return Outcome::Unsupported(e),
        };
        // `assert EXPR, MESSAGE`: the message is for humans.
        let end = toks
            .iter()
            .position(|t| *t == Tok::Comma)
            .unwrap_or(toks.len());
        let mut p = Parser {
            toks: &toks[..end],
            pos: 0,
            fields,
            vars,
            used: Vec::new(),
        };
        let v = match p.expr(0) {
            Ok(v) if p.pos == p.toks.len() => v,
            Ok(_) => {
                return Outcome::Unsupported(format!("python expression `{}`", rest.trim()));
            }
            Err(e) => return Outcome::Unsupported(e),
        };
        if v == 0.0 {
            let mut vals: Vec<String> = p.used.iter().map(|(n, v)| format!("{n}={v}")).collect();
            vals.dedup();
            return Outcome::Failed(format!("assertion failed: {} ({})", line, vals.join(", ")));
        }
    }
    Outcome::Passed
}

fn strip_comment(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(n) => write!(f, "{n}"),
            Tok::Name(n) => f.write_str(n),
            Tok::Op(o) => f.write_str(o),
            Tok::LParen => f.write_str("("),
            Tok::RParen => f.write_str(")"),
            Tok::Comma => f.write_str(","),
        }
    }
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    const OPS: &[&str] = &[
        "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%",
    ];
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    'outer: while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            ',' => {
                // Everything after the top-level comma is the message.
                out.push(Tok::Comma);
                return Ok(out);
            }
            c if c.is_ascii_digit() || c == '.' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                let text = &s[start..i];
                let v = if let Some(h) = text.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok().map(|v| v as f64)
                } else {
                    text.parse::<f64>().ok()
                };
                match v {
                    Some(v) => out.push(Tok::Num(v)),
                    None => return Err(format!("python number `{text}`")),
                }
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(Tok::Name(s[start..i].to_string()));
                continue;
            }
            _ => {
                for op in OPS {
                    if s[i..].starts_with(op) {
                        out.push(Tok::Op(op));
                        i += op.len();
                        continue 'outer;
                    }
                }
                return Err(format!("python syntax `{}`", &s[i..]));
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    fields: &'a [(&'a str, i64)],
    vars: &'a [(String, f64)],
    used: Vec<(String, String)>,
}

type R = Result<f64, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn is_name(&self, n: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(s)) if s == n)
    }

    fn depth_check(depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            Err("python expression nested too deeply".into())
        } else {
            Ok(())
        }
    }

    /// `or` (lowest precedence).
    fn expr(&mut self, depth: usize) -> R {
        Self::depth_check(depth)?;
        let mut v = self.and(depth)?;
        while self.is_name("or") {
            self.pos += 1;
            let r = self.and(depth)?;
            v = if v != 0.0 { v } else { r };
        }
        Ok(v)
    }

    fn and(&mut self, depth: usize) -> R {
        let mut v = self.not(depth)?;
        while self.is_name("and") {
            self.pos += 1;
            let r = self.not(depth)?;
            v = if v == 0.0 { v } else { r };
        }
        Ok(v)
    }

    fn not(&mut self, depth: usize) -> R {
        if self.is_name("not") {
            self.pos += 1;
            Self::depth_check(depth + 1)?;
            let v = self.not(depth + 1)?;
            return Ok(f64::from(u8::from(v == 0.0)));
        }
        self.comparison(depth)
    }

    /// Python chains comparisons: `a < b <= c` is `a < b and b <= c`.
    fn comparison(&mut self, depth: usize) -> R {
        let mut left = self.sum(depth)?;
        let mut result = true;
        let mut any = false;
        while let Some(Tok::Op(op @ ("==" | "!=" | "<" | "<=" | ">" | ">="))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.sum(depth)?;
            result &= match op {
                "==" => left == right,
                "!=" => left != right,
                "<" => left < right,
                "<=" => left <= right,
                ">" => left > right,
                _ => left >= right,
            };
            any = true;
            left = right;
        }
        Ok(if any {
            f64::from(u8::from(result))
        } else {
            left
        })
    }

    fn sum(&mut self, depth: usize) -> R {
        let mut v = self.product(depth)?;
        while let Some(Tok::Op(op @ ("+" | "-"))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let r = self.product(depth)?;
            v = if op == "+" { v + r } else { v - r };
        }
        Ok(v)
    }

    fn product(&mut self, depth: usize) -> R {
        let mut v = self.unary(depth)?;
        while let Some(Tok::Op(op @ ("*" | "/" | "//" | "%"))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let r = self.unary(depth)?;
            if r == 0.0 && op != "*" {
                return Err("python division by zero".into());
            }
            v = match op {
                "*" => v * r,
                "/" => v / r,
                "//" => (v / r).floor(),
                _ => v - r * (v / r).floor(),
            };
        }
        Ok(v)
    }

    fn unary(&mut self, depth: usize) -> R {
        if let Some(Tok::Op("-")) = self.peek() {
            self.pos += 1;
            Self::depth_check(depth + 1)?;
            return Ok(-self.unary(depth + 1)?);
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> R {
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(v)) => Ok(v),
            Some(Tok::LParen) => {
                let v = self.expr(depth + 1)?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(v)
                    }
                    _ => Err("python: `(` without `)`".into()),
                }
            }
            Some(Tok::Name(n)) => {
                if matches!(self.peek(), Some(Tok::LParen)) {
                    return Err(format!("python call `{n}(…)`"));
                }
                if let Some((_, v)) = CONSTANTS.iter().find(|(c, _)| *c == n) {
                    return Ok(*v);
                }
                if let Some((_, v)) = self.vars.iter().find(|(c, _)| *c == n) {
                    return Ok(*v);
                }
                match self.fields.iter().find(|(f, _)| *f == n) {
                    Some((_, v)) => {
                        self.used.push((n.clone(), v.to_string()));
                        Ok(*v as f64)
                    }
                    None if n.starts_with("tcpi_") => {
                        Err(format!("`{n}` (not reported by this DUT)"))
                    }
                    None => Err(format!("python name `{n}`")),
                }
            }
            Some(t) => Err(format!("python syntax at `{t}`")),
            None => Err("python: expression ends early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[(&str, i64)] = &[
        ("tcpi_snd_cwnd", 7),
        ("tcpi_ca_state", 3),
        ("tcpi_rtt", 100_500),
    ];

    #[test]
    fn public_script_forms() {
        let code = "\nassert tcpi_ca_state == TCP_CA_Recovery, tcpi_ca_state\n\
                    assert tcpi_snd_cwnd == 7, tcpi_snd_cwnd # comment\n\
                    assert 100000 <= tcpi_rtt <= 101000, tcpi_rtt\n\
                    assert (tcpi_snd_cwnd * 2 + 1) // 3 == 5 and not tcpi_snd_cwnd < 0\n\
                    assert tcpi_snd_cwnd % 4 == 3 or False\n";
        assert_eq!(check(code, F), Outcome::Passed);
    }

    #[test]
    fn assignments_persist_across_blocks() {
        let mut vars = Vars::new();
        let mut printed = Vec::new();
        let set = check_printing(
            "TCP_INFINITE_SSTHRESH = 0x7fffffff",
            F,
            &mut vars,
            &mut printed,
        );
        assert_eq!(set, Outcome::Passed);
        let use_it = "assert tcpi_snd_cwnd < TCP_INFINITE_SSTHRESH and not tcpi_snd_cwnd == 8";
        assert_eq!(
            check_printing(use_it, F, &mut vars, &mut printed),
            Outcome::Passed
        );
        // Without the assignment the name is unknown.
        assert!(matches!(check(use_it, F), Outcome::Unsupported(_)));
    }

    #[test]
    fn print_shows_values() {
        let mut printed = Vec::new();
        let out = check_printing(
            "print(tcpi_snd_cwnd, tcpi_rtt // 1000); assert tcpi_snd_cwnd == \\\n 7",
            F,
            &mut Vec::new(),
            &mut printed,
        );
        assert_eq!(out, Outcome::Passed);
        assert_eq!(printed, vec!["tcpi_snd_cwnd=7 tcpi_rtt // 1000=100"]);
    }

    #[test]
    fn failures_name_the_values() {
        assert_eq!(
            check("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", F),
            Outcome::Failed(
                "assertion failed: assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd (tcpi_snd_cwnd=7)"
                    .into()
            )
        );
        // A chained comparison is a range: false when either end fails.
        assert!(matches!(
            check("assert 0 < tcpi_rtt < 1000", F),
            Outcome::Failed(_)
        ));
        assert!(matches!(
            check("assert not tcpi_snd_cwnd", F),
            Outcome::Failed(_)
        ));
    }

    #[test]
    fn outside_the_subset_is_unsupported() {
        for (code, what) in [
            ("print(len(x))", "python call `len"),
            ("assert len(x) == 1", "python call `len"),
            ("assert tcpi_delivered == 3", "not reported by this DUT"),
            ("assert foo == 1", "python name `foo`"),
            ("assert 'a' == 'a'", "python syntax"),
            ("assert 1 / 0", "division by zero"),
            ("assert (1", "without `)`"),
            ("x.y = 1", "python statement"),
        ] {
            match check(code, F) {
                Outcome::Unsupported(m) => assert!(m.contains(what), "{code}: {m}"),
                other => panic!("{code}: {other:?}"),
            }
        }
        let deep = format!("assert {}1{}", "(".repeat(100), ")".repeat(100));
        assert!(matches!(check(&deep, F), Outcome::Unsupported(_)));
    }
}
