//! Shrinking a divergent case: delta debugging over its stimuli, then
//! smaller payloads and offsets, keeping a candidate only when the same
//! signature reproduces, within a budget of runs.

use super::gen::{Case, Stim};

/// Shrinks `case`, whose divergence has signature `sig`. `reproduces` runs a
/// candidate on both DUTs and says whether the same signature came out; it
/// is called at most `budget` times. Returns the smallest case found and the
/// number of runs spent.
pub fn shrink(
    case: &Case,
    sig: &str,
    budget: usize,
    mut reproduces: impl FnMut(&Case) -> Option<String>,
) -> (Case, usize) {
    let mut best = case.clone();
    let mut runs = 0;
    let mut try_candidate = |cand: &Case, runs: &mut usize| -> bool {
        if *runs >= budget {
            return false;
        }
        *runs += 1;
        reproduces(cand).as_deref() == Some(sig)
    };
    // ddmin over the steps: remove chunks of halving size, from the end
    // first (later stimuli are the likeliest to be irrelevant).
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let mut start = best.steps.len();
        while start > 0 && runs < budget {
            let lo = start.saturating_sub(chunk);
            let mut cand = best.clone();
            cand.steps.drain(lo..start);
            if try_candidate(&cand, &mut runs) {
                best = cand;
                removed_any = true;
            }
            start = lo;
        }
        if runs >= budget {
            break;
        }
        if chunk == 1 && !removed_any {
            break;
        }
        if !removed_any {
            chunk = (chunk / 2).max(1);
        }
    }
    // The socket options set before the handshake, one at a time.
    let mut k = 0;
    while let Some(fewer) = best.prefix.sockopts.without_each().into_iter().nth(k) {
        if runs >= budget {
            break;
        }
        let mut cand = best.clone();
        cand.prefix.sockopts = fewer;
        if try_candidate(&cand, &mut runs) {
            best = cand;
            k = 0;
        } else {
            k += 1;
        }
    }
    // Then each step's numbers: payloads to 1 byte, offsets to 0, gaps to
    // the shortest.
    for i in 0..best.steps.len() {
        // Each simplification is of the current best, so an accepted one
        // is kept by the next (every one moves towards a fixed point).
        let mut k = 0;
        while let Some(simpler) = simplifications(&best.steps[i].stim).into_iter().nth(k) {
            let mut cand = best.clone();
            cand.steps[i].stim = simpler;
            if try_candidate(&cand, &mut runs) {
                best = cand;
                k = 0;
            } else {
                k += 1;
            }
            if runs >= budget {
                break;
            }
        }
        if best.steps[i].gap_ms > 10 {
            let mut cand = best.clone();
            cand.steps[i].gap_ms = 10;
            if try_candidate(&cand, &mut runs) {
                best = cand;
            }
        }
    }
    (best, runs)
}

/// Simpler versions of one stimulus, simplest first.
fn simplifications(s: &Stim) -> Vec<Stim> {
    let mut out = Vec::new();
    match s {
        Stim::Seg(g) => {
            if g.len > 1 {
                let mut c = g.clone();
                c.len = 1;
                out.push(Stim::Seg(c));
            }
            if g.sack.is_some() {
                let mut c = g.clone();
                c.sack = None;
                out.push(Stim::Seg(c));
            }
            if g.ack_off != 0 {
                let mut c = g.clone();
                c.ack_off = 0;
                out.push(Stim::Seg(c));
            }
            if g.win != 502 {
                let mut c = g.clone();
                c.win = 502;
                out.push(Stim::Seg(c));
            }
        }
        Stim::Write(n) if *n > 1 => out.push(Stim::Write(1)),
        Stim::Read(n) if *n != 1000 => out.push(Stim::Read(1000)),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::gen::{generate, Seg, SockOpts, Step};

    fn seg(flags: u8, len: u32) -> Step {
        Step {
            gap_ms: 60,
            stim: Stim::Seg(Seg {
                flags,
                seq_off: 0,
                ack_off: 5,
                len,
                win: 502,
                ts: true,
                sack: None,
            }),
        }
    }

    /// A fake runner: the "bug" needs a FIN segment after a close, whatever
    /// else the case holds.
    fn fake(c: &Case) -> Option<String> {
        let close = c.steps.iter().position(|s| s.stim == Stim::Close)?;
        c.steps[close..]
            .iter()
            .any(|s| matches!(&s.stim, Stim::Seg(g) if g.flags & 1 != 0))
            .then(|| "closed.seg-FA.flags".to_string())
    }

    #[test]
    fn shrinks_to_the_two_relevant_steps() {
        let mut case = generate(7, 4);
        case.steps = vec![
            seg(0x10, 100),
            Step {
                gap_ms: 20,
                stim: Stim::Write(3000),
            },
            Step {
                gap_ms: 20,
                stim: Stim::Close,
            },
            seg(0x18, 1000),
            seg(0x11, 500),
            Step {
                gap_ms: 20,
                stim: Stim::Read(1),
            },
        ];
        let sig = fake(&case).expect("the case reproduces");
        let (small, runs) = shrink(&case, &sig, 100, fake);
        assert!(runs <= 100);
        assert_eq!(small.steps.len(), 2, "{:?}", small.steps);
        assert_eq!(small.steps[0].stim, Stim::Close);
        match &small.steps[1].stim {
            Stim::Seg(g) => {
                assert_eq!(g.flags, 0x11);
                assert_eq!(g.len, 1, "payload shrunk");
                assert_eq!(g.ack_off, 0, "offset shrunk");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fake(&small).as_deref(), Some(sig.as_str()));
    }

    #[test]
    fn drops_the_socket_options_the_divergence_does_not_need() {
        let mut case = generate(7, 4);
        case.steps = vec![seg(0x10, 100)];
        case.prefix.sockopts = SockOpts {
            rcvbuf: Some(4096),
            sndbuf: Some(16_384),
            maxseg: Some(536),
        };
        // The "bug" needs a small SO_RCVBUF.
        let needs_rcvbuf = |c: &Case| {
            c.prefix
                .sockopts
                .rcvbuf
                .is_some_and(|v| v < 8192)
                .then(|| "est.seg-A.win".to_string())
        };
        let (small, _) = shrink(&case, "est.seg-A.win", 100, needs_rcvbuf);
        assert_eq!(
            small.prefix.sockopts,
            SockOpts {
                rcvbuf: Some(4096),
                ..SockOpts::default()
            }
        );
        let text = crate::fuzz::gen::render(&small);
        assert!(
            text.contains("setsockopt(3, SOL_SOCKET, SO_RCVBUF, [4096], 4) = 0"),
            "{text}"
        );
        assert!(!text.contains("SO_SNDBUF") && !text.contains("TCP_MAXSEG"));
    }

    #[test]
    fn respects_the_budget_and_keeps_only_reproducing_candidates() {
        let case = generate(11, 16);
        let mut calls = 0;
        // Nothing smaller reproduces: the case comes back unchanged.
        let (same, runs) = shrink(&case, "sig", 5, |_| {
            calls += 1;
            Some("other".into())
        });
        assert_eq!(same, case);
        assert_eq!(runs, 5);
        assert_eq!(calls, 5);
    }
}
