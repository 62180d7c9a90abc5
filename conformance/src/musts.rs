//! RFC 9293's numbered MUST requirements (Appendix B), each with a one-line
//! paraphrase, and the coverage of them by the scenarios' header comments.
//!
//! A scenario claims a requirement by naming it (`MUST-14`) in the `//`
//! comment lines at the top of its script. Claims are only as good as the
//! scenario: the suite fails when the scenario does, so a claim on a passing
//! scenario means the behaviour was observed on Linux, on the stack over veth
//! and on the simulated stack.

use std::collections::BTreeMap;
use std::fmt::Write;

/// (number, paraphrase) for MUST-1 … MUST-69.
pub const MUSTS: [(u8, &str); 69] = [
    (1, "window is an unsigned number"),
    (2, "sender computes the checksum"),
    (3, "receiver checks the checksum"),
    (4, "support the mandatory options (EOL, NOP, MSS)"),
    (5, "accept an option in any segment"),
    (6, "ignore options it does not implement"),
    (7, "cope with an illegal option length"),
    (8, "ISN generator has a clock-driven component"),
    (9, "ISN PRF not computable from outside the host"),
    (10, "support simultaneous open"),
    (11, "SYN-RECEIVED remembers whether it came from LISTEN"),
    (12, "inform the application of an aborted connection"),
    (13, "TIME-WAIT lasts 2*MSL"),
    (14, "send and receive the MSS option"),
    (15, "send MSS defaults to 536 (IPv4) when none was received"),
    (16, "effective send segment size computed from MSS and MTU"),
    (17, "application can disable Nagle (TCP_NODELAY)"),
    (18, "Karn's algorithm"),
    (
        19,
        "exponential backoff, slow start and congestion avoidance",
    ),
    (20, "R1/R2 retransmission thresholds: advise IP, then close"),
    (21, "application can set R2"),
    (22, "the same R1/R2 mechanism applies to SYNs"),
    (23, "R2 for SYNs at least 3 minutes"),
    (24, "application can request keep-alives"),
    (25, "keep-alives are off by default"),
    (26, "keep-alive only after an idle interval"),
    (27, "keep-alive interval configurable"),
    (28, "keep-alive interval defaults to at least 2 hours"),
    (29, "keep-alive tolerant of lost ACKs"),
    (30, "support the urgent pointer"),
    (31, "urgent data of any length"),
    (32, "inform the application of urgent data asynchronously"),
    (33, "application can learn how much urgent data is queued"),
    (34, "robust against a shrinking window"),
    (35, "standard zero-window probing logic"),
    (36, "sender probes a zero window"),
    (37, "allow the window to stay zero indefinitely"),
    (38, "sender silly-window-syndrome avoidance"),
    (39, "receiver silly-window-syndrome avoidance"),
    (40, "ACK delay under 0.5 s"),
    (
        41,
        "a passive OPEN does not interfere with other connections",
    ),
    (42, "several LISTENs on the same port at once"),
    (43, "OPEN takes an optional local IP address"),
    (44, "ask IP for the SYN's source address when needed"),
    (45, "otherwise use the connection's local address"),
    (
        46,
        "reject an OPEN to a broadcast/multicast or invalid address",
    ),
    (47, "error-report mechanism to the application"),
    (48, "application can set the Diffserv field"),
    (49, "configurable TTL"),
    (50, "ignore IP options TCP does not understand"),
    (51, "application can give a source route"),
    (52, "that source route overrides one in the datagram"),
    (53, "build the return route from a received source route"),
    (54, "act on ICMP messages from IP"),
    (55, "Source Quench: silently discarded"),
    (
        56,
        "no abort on soft ICMP errors (unreachable 0,1,5, time exceeded, parameter problem)",
    ),
    (
        57,
        "silently discard a SYN to a broadcast/multicast address",
    ),
    (58, "aggregate ACKs whenever possible"),
    (59, "process all queued segments before sending an ACK"),
    (60, "no indefinite buffering of data without PUSH"),
    (61, "PSH set on the last segment of a send"),
    (62, "urgent pointer points to the first non-urgent octet"),
    (63, "reject a SYN from an invalid source address"),
    (64, "process options regardless of word alignment"),
    (65, "MSS option only on SYN segments"),
    (66, "process RST and URG even with a zero window"),
    (
        67,
        "MSS value based on the largest receivable datagram (MMS_R)",
    ),
    (68, "every option but EOL and NOP carries a length"),
    (69, "header padding is zero"),
];

/// The `MUST-N` numbers named in a script's leading comment lines.
pub fn claims(script: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(text) = line.strip_prefix("//") else {
            break;
        };
        let mut rest = text;
        while let Some(i) = rest.find("MUST-") {
            rest = &rest[i + 5..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse::<u8>() {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The leading `//` comment lines of a script.
pub fn header(script: &str) -> Vec<&str> {
    script
        .lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("//"))
        .collect()
}

/// The coverage table (markdown) for `(scenario id, claims)` pairs.
pub fn coverage(claims: &[(String, Vec<u8>)]) -> String {
    let mut by: BTreeMap<u8, Vec<&str>> = BTreeMap::new();
    for (id, ns) in claims {
        for n in ns {
            by.entry(*n).or_default().push(id);
        }
    }
    let covered = MUSTS.iter().filter(|(n, _)| by.contains_key(n)).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# RFC 9293 MUST requirements and the scenarios that show them\n"
    );
    let _ = writeln!(
        s,
        "Generated by `cargo test -p conformance --test must_coverage` from the `MUST-N`\n\
         tags in the header comments of `corpus/scenarios/**/*.pkt`; run it with\n\
         `UPDATE_DOCS=1` to rewrite this file. Every tagged scenario passes on\n\
         linux, stack and sim (or the suite fails). The paraphrases are ours;\n\
         RFC 9293 Appendix B is the authority.\n"
    );
    let _ = writeln!(s, "{covered} of {} MUSTs are tagged.\n", MUSTS.len());
    let _ = writeln!(s, "| MUST | requirement | scenarios |");
    let _ = writeln!(s, "|---|---|---|");
    for (n, what) in MUSTS {
        let who = by.get(&n).map_or_else(|| "—".to_string(), |v| v.join(", "));
        let _ = writeln!(s, "| MUST-{n} | {what} | {who} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_ordered() {
        for (i, (n, what)) in MUSTS.iter().enumerate() {
            assert_eq!(usize::from(*n), i + 1);
            assert!(!what.is_empty());
        }
    }

    #[test]
    fn claims_come_from_the_header_only() {
        let s =
            "// verifies x\n// MUST-12, MUST-3 and MUST-12 again\n0 socket(...) = 3\n// MUST-40\n";
        assert_eq!(claims(s), vec![3, 12]);
        assert_eq!(header(s).len(), 2);
    }

    #[test]
    fn coverage_lists_each_claim() {
        let t = coverage(&[("tcp/a".into(), vec![13]), ("tcp/b".into(), vec![13, 14])]);
        assert!(t.contains("| MUST-13 | TIME-WAIT lasts 2*MSL | tcp/a, tcp/b |"));
        assert!(t.contains("| MUST-1 | window is an unsigned number | — |"));
        assert!(t.contains("2 of 69 MUSTs are tagged."));
    }
}
