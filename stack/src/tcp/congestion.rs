//! Congestion control (RFC 5681), kept apart from loss recovery as gVisor's
//! `congestionControl` / `lossRecovery` and FreeBSD's `cc` modules keep
//! them: the recovery code in [`super::state`] decides *when* a loss
//! happened and what to retransmit; an implementation of
//! [`CongestionControl`] decides how the congestion window grows and how
//! far it falls. [`Reno`] is the one implementation; CUBIC (RFC 9438) would
//! be another, behind the same trait.
//!
//! Windows are in bytes. Linux counts its cwnd in packets; with
//! [`crate::Profile::cwnd_packets`] the TCB counts its flight in segments
//! and grows cwnd by one SMSS per segment acknowledged, so a window of N
//! SMSS holds N packets whatever their size (see `Tcb::cwnd_room`).

/// The two numbers a congestion controller owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// cwnd, bytes.
    pub cwnd: u32,
    /// ssthresh, bytes (`u32::MAX`: not set yet, RFC 5681 3.1 "arbitrarily high").
    pub ssthresh: u32,
}

/// Which number the new ssthresh is half of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsthreshBasis {
    /// RFC 5681 3.1 (4): max(FlightSize / 2, 2 · SMSS).
    FlightSize,
    /// Linux tcp_reno_ssthresh: max(cwnd / 2, 2) packets.
    Cwnd,
}

/// The algorithm a [`crate::Profile`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 5681 slow start and congestion avoidance (Linux "reno").
    Reno,
}

/// How cwnd grows and falls. `mss` is the sender's SMSS in bytes.
pub trait CongestionControl {
    /// The algorithm's name (Linux's tcp_congestion_control spelling).
    fn name(&self) -> &'static str;
    /// Grow the window for `acked` newly acknowledged bytes, outside loss
    /// recovery, while the sender is cwnd-limited (RFC 7661 2: a window the
    /// sender does not use is not validated; Linux tcp_is_cwnd_limited).
    fn on_ack(&mut self, w: &mut Window, acked: u32, mss: u32);
    /// The ssthresh to set when a loss is detected, by fast retransmit
    /// (RFC 5681 3.2 step 2) or by a retransmission timeout (3.1 (4)).
    fn ssthresh_after_loss(&self, w: &Window, flight: u32, mss: u32) -> u32;
}

/// RFC 5681 Reno window growth with appropriate byte counting (RFC 3465).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reno {
    basis: SsthreshBasis,
    /// Slow start grows cwnd by at most this many SMSS per ACK (RFC 3465
    /// 2.2's L; RFC 5681 3.1 eq. (2): 1). 0: no limit, as Linux
    /// tcp_slow_start (cwnd += packets acked).
    abc_limit: u32,
    /// Bytes acknowledged in congestion avoidance since cwnd last grew
    /// (Linux tp->snd_cwnd_cnt, in bytes).
    acked_cnt: u32,
}

impl Reno {
    pub fn new(basis: SsthreshBasis, abc_limit: u32) -> Reno {
        Reno {
            basis,
            abc_limit,
            acked_cnt: 0,
        }
    }
}

impl CongestionControl for Reno {
    fn name(&self) -> &'static str {
        "reno"
    }

    fn on_ack(&mut self, w: &mut Window, mut acked: u32, mss: u32) {
        let mss = mss.max(1);
        if w.cwnd < w.ssthresh {
            // RFC 5681 3.1 slow start: cwnd += min(N, L · SMSS), never past
            // ssthresh (Linux tcp_slow_start); the rest of the ACK counts
            // toward congestion avoidance.
            let grow = if self.abc_limit == 0 {
                acked
            } else {
                acked.min(self.abc_limit.saturating_mul(mss))
            };
            let new = w.cwnd.saturating_add(grow).min(w.ssthresh);
            acked = acked.saturating_sub(new - w.cwnd);
            w.cwnd = new;
            if acked == 0 || w.cwnd < w.ssthresh {
                return;
            }
        }
        // RFC 5681 3.1 congestion avoidance, counted in bytes (RFC 3465
        // 2.1): one SMSS per cwnd's worth of acknowledged bytes (Linux
        // tcp_cong_avoid_ai).
        if self.acked_cnt >= w.cwnd {
            self.acked_cnt = 0;
            w.cwnd = w.cwnd.saturating_add(mss);
        }
        self.acked_cnt = self.acked_cnt.saturating_add(acked);
        if self.acked_cnt >= w.cwnd {
            let n = self.acked_cnt / w.cwnd.max(1);
            self.acked_cnt -= n * w.cwnd.max(1);
            w.cwnd = w.cwnd.saturating_add(n.saturating_mul(mss));
        }
    }

    fn ssthresh_after_loss(&self, w: &Window, flight: u32, mss: u32) -> u32 {
        let base = match self.basis {
            SsthreshBasis::FlightSize => flight,
            SsthreshBasis::Cwnd => w.cwnd,
        };
        (base / 2).max(2 * mss)
    }
}

/// The controller a connection runs: one variant per [`Algorithm`], so a
/// `Tcb` stays `Clone` and needs no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    Reno(Reno),
}

impl Controller {
    pub fn new(algo: Algorithm, basis: SsthreshBasis, abc_limit: u32) -> Controller {
        match algo {
            Algorithm::Reno => Controller::Reno(Reno::new(basis, abc_limit)),
        }
    }

    fn inner(&self) -> &dyn CongestionControl {
        match self {
            Controller::Reno(r) => r,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn CongestionControl {
        match self {
            Controller::Reno(r) => r,
        }
    }
}

impl CongestionControl for Controller {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn on_ack(&mut self, w: &mut Window, acked: u32, mss: u32) {
        self.inner_mut().on_ack(w, acked, mss)
    }
    fn ssthresh_after_loss(&self, w: &Window, flight: u32, mss: u32) -> u32 {
        self.inner().ssthresh_after_loss(w, flight, mss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    #[test]
    fn slow_start_linux_grows_by_acked_rfc_by_one_smss() {
        let mut linux = Reno::new(SsthreshBasis::Cwnd, 0);
        let mut w = Window {
            cwnd: 10 * MSS,
            ssthresh: u32::MAX,
        };
        linux.on_ack(&mut w, 2 * MSS, MSS);
        assert_eq!(w.cwnd, 12 * MSS);
        let mut rfc = Reno::new(SsthreshBasis::FlightSize, 1);
        let mut w = Window {
            cwnd: 10 * MSS,
            ssthresh: u32::MAX,
        };
        rfc.on_ack(&mut w, 2 * MSS, MSS);
        assert_eq!(w.cwnd, 11 * MSS);
    }

    #[test]
    fn slow_start_stops_at_ssthresh_and_the_rest_counts_for_avoidance() {
        let mut r = Reno::new(SsthreshBasis::Cwnd, 0);
        let mut w = Window {
            cwnd: 4 * MSS,
            ssthresh: 5 * MSS,
        };
        r.on_ack(&mut w, 3 * MSS, MSS);
        assert_eq!(w.cwnd, 5 * MSS);
        assert_eq!(r.acked_cnt, 2 * MSS);
    }

    #[test]
    fn avoidance_adds_one_smss_per_window() {
        let mut r = Reno::new(SsthreshBasis::Cwnd, 0);
        let mut w = Window {
            cwnd: 5 * MSS,
            ssthresh: 5 * MSS,
        };
        for _ in 0..4 {
            r.on_ack(&mut w, MSS, MSS);
        }
        assert_eq!(w.cwnd, 5 * MSS);
        r.on_ack(&mut w, MSS, MSS);
        assert_eq!(w.cwnd, 6 * MSS);
    }

    #[test]
    fn ssthresh_bases() {
        let w = Window {
            cwnd: 20 * MSS,
            ssthresh: u32::MAX,
        };
        let linux = Reno::new(SsthreshBasis::Cwnd, 0);
        let rfc = Reno::new(SsthreshBasis::FlightSize, 1);
        assert_eq!(linux.ssthresh_after_loss(&w, 8 * MSS, MSS), 10 * MSS);
        assert_eq!(rfc.ssthresh_after_loss(&w, 8 * MSS, MSS), 4 * MSS);
        assert_eq!(rfc.ssthresh_after_loss(&w, MSS, MSS), 2 * MSS);
    }
}
