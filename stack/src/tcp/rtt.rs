//! Retransmission timeout computation: RFC 6298, or Linux's estimator
//! (tcp_rtt_estimator / __tcp_set_rto), which the `linux` profile uses.

use super::seq::SeqNumber;
use crate::time::Duration;

/// How the RTO follows the RTT samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtoEstimator {
    /// RFC 6298 2.2-2.3: RTO = SRTT + max(G, 4 * RTTVAR), RTTVAR moving a
    /// quarter of the way to each sample's error.
    Rfc6298 {
        /// The clock granularity G.
        granularity: Duration,
    },
    /// Linux tcp_rtt_estimator: RTO = SRTT + rttvar, where rttvar is the
    /// largest mean deviation (mdev, the RFC's RTTVAR times 4, with a
    /// smaller gain when the RTT falls) seen in the current window of data,
    /// never under the minimum RTO, and falls at most a quarter of the way
    /// to that window's largest at the end of each window (when SND.UNA
    /// passes the SND.NXT of the window's first sample). So a high sample
    /// holds the RTO up for a window or more where RFC 6298's falls at the
    /// next sample (`oracle fuzz`, reset.soerror.rexmit-extra-A of seed
    /// 380000: after samples of 10, 275 and 20 ms Linux's RTO was 312 ms,
    /// RFC 6298's with G = 200 ms 276 ms).
    Linux,
}

/// Linux's estimator state (struct tcp_sock), in microseconds.
#[derive(Debug, Clone, Copy)]
struct LinuxRtt {
    /// srtt_us: eight times the smoothed RTT.
    srtt8: i64,
    /// mdev_us: the mean deviation.
    mdev: i64,
    /// mdev_max_us: the largest mdev of the current window.
    mdev_max: i64,
    /// rttvar_us.
    rttvar: i64,
    /// rtt_seq: the window ends when SND.UNA passes it.
    rtt_seq: SeqNumber,
}

/// RTT estimator and RTO with exponential backoff.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    min_rtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    backoff: u32,
    min: Duration,
    max: Duration,
    estimator: RtoEstimator,
    linux: Option<LinuxRtt>,
    tick: Option<Duration>,
}

impl RttEstimator {
    /// RFC 6298 2.1: until a measurement is made, RTO = initial (1 s).
    /// `tick`: the RTO is rounded up to whole ticks (`Profile::rto_tick`).
    pub fn new(
        initial: Duration,
        min: Duration,
        max: Duration,
        estimator: RtoEstimator,
        tick: Option<Duration>,
    ) -> Self {
        RttEstimator {
            srtt: None,
            min_rtt: None,
            rttvar: Duration::ZERO,
            rto: initial,
            backoff: 0,
            min,
            max,
            estimator,
            linux: None,
            tick,
        }
    }

    /// Feed one RTT measurement (never from a retransmitted segment: Karn's
    /// rule, RFC 6298 3, is enforced by the caller). `snd_una` and
    /// `snd_max` as they stand after the ACK that gave the sample (Linux's
    /// estimator keeps its windows by them).
    pub fn sample(&mut self, r: Duration, snd_una: SeqNumber, snd_max: SeqNumber) {
        let r = r.max(Duration::ZERO);
        // Linux tcp_update_rtt_min: the least sample (its window, 300 s,
        // outlasts any connection the harness drives).
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        let mut rto = match self.estimator {
            RtoEstimator::Rfc6298 { granularity } => {
                match self.srtt {
                    None => {
                        // RFC 6298 2.2
                        self.srtt = Some(r);
                        self.rttvar = Duration::from_micros(r.total_micros() / 2);
                    }
                    Some(srtt) => {
                        // RFC 6298 2.3: beta = 1/4, alpha = 1/8
                        let err = (srtt.total_micros() - r.total_micros()).abs();
                        self.rttvar =
                            Duration::from_micros((3 * self.rttvar.total_micros() + err) / 4);
                        self.srtt = Some(Duration::from_micros(
                            (7 * srtt.total_micros() + r.total_micros()) / 8,
                        ));
                    }
                }
                // RFC 6298 2.3: RTO = SRTT + max(G, K*RTTVAR), K = 4.
                let srtt = self.srtt.unwrap_or(Duration::ZERO);
                srtt + granularity.max(self.rttvar.saturating_mul(4))
            }
            RtoEstimator::Linux => self.linux_sample(r.total_micros(), snd_una, snd_max),
        };
        // Linux __tcp_set_rto: usecs_to_jiffies rounds up to a tick.
        if let Some(t) = self.tick.map(|t| t.total_micros()).filter(|&t| t > 0) {
            let us = rto.total_micros();
            rto = Duration::from_micros(us.saturating_add(t - 1) / t * t);
        }
        // RFC 6298 2.4/2.5 clamp (Linux: its rttvar is never under the
        // minimum, tcp_bound_rto caps at the maximum).
        self.rto = rto.max(self.min).min(self.max);
        // RFC 6298 5.7 note: a new sample after backoff collapses the backoff.
        self.backoff = 0;
    }

    /// Linux tcp_rtt_estimator with sample `m` µs, then __tcp_set_rto's
    /// srtt + rttvar.
    fn linux_sample(&mut self, m: i64, snd_una: SeqNumber, snd_max: SeqNumber) -> Duration {
        let rto_min = self.min.total_micros();
        let st = match self.linux {
            None => {
                // "no previous measure": rto = 3 * rtt at least.
                let mdev = m << 1;
                let rttvar = mdev.max(rto_min);
                LinuxRtt {
                    srtt8: m << 3,
                    mdev,
                    mdev_max: rttvar,
                    rttvar,
                    rtt_seq: snd_max,
                }
            }
            Some(mut st) => {
                let mut m = m - (st.srtt8 >> 3); // the error
                st.srtt8 += m; // srtt = 7/8 srtt + 1/8 new
                if m < 0 {
                    // The RTT fell: a smaller gain for mdev (alpha * beta),
                    // so the RTO does not fall too fast.
                    m = -m - (st.mdev >> 2);
                    if m > 0 {
                        m >>= 3;
                    }
                } else {
                    m -= st.mdev >> 2;
                }
                st.mdev += m; // mdev = 3/4 mdev + 1/4 new
                if st.mdev > st.mdev_max {
                    st.mdev_max = st.mdev;
                    if st.mdev_max > st.rttvar {
                        st.rttvar = st.mdev_max;
                    }
                }
                // The window of data ends: rttvar falls a quarter of the
                // way to its largest mdev, and a new window starts.
                if snd_una > st.rtt_seq {
                    if st.mdev_max < st.rttvar {
                        st.rttvar -= (st.rttvar - st.mdev_max) >> 2;
                    }
                    st.rtt_seq = snd_max;
                    st.mdev_max = rto_min;
                }
                st
            }
        };
        let st = LinuxRtt {
            srtt8: st.srtt8.max(1),
            ..st
        };
        self.linux = Some(st);
        self.srtt = Some(Duration::from_micros(st.srtt8 >> 3));
        // tcpi_rttvar is mdev_us >> 2.
        self.rttvar = Duration::from_micros(st.mdev >> 2);
        Duration::from_micros((st.srtt8 >> 3) + st.rttvar)
    }

    /// RFC 6298 5.5: double the RTO on expiry (bounded by the maximum).
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// The current RTO including backoff.
    pub fn rto(&self) -> Duration {
        let shift = self.backoff.min(30);
        self.rto.saturating_mul(1i64 << shift).min(self.max)
    }

    /// Smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The least RTT sample (Linux tcp_min_rtt), once measured.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }

    /// RTT variation (RFC 6298 RTTVAR).
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// RTO doublings in force (RFC 6298 5.5).
    pub fn backoff(&self) -> u32 {
        self.backoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G200: RtoEstimator = RtoEstimator::Rfc6298 {
        granularity: Duration::from_millis(200),
    };

    fn seq(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    #[test]
    fn rfc6298() {
        let mut e = RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(120),
            G200,
            None,
        );
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.back_off();
        assert_eq!(e.rto(), Duration::from_secs(2));
        e.sample(Duration::from_millis(100), seq(0), seq(0));
        // srtt 100, rttvar 50 → 100 + max(200, 200) = 300 ms
        assert_eq!(e.rto(), Duration::from_millis(300));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(), Duration::from_secs(120));
    }

    #[test]
    fn the_rto_is_whole_ticks_rounded_up() {
        // Linux __tcp_set_rto (usecs_to_jiffies) at HZ=250: SRTT 10 ms,
        // rttvar at its 200 ms floor: 210 ms is 52.5 ticks, so 212 ms;
        // backoff doubles the rounded value.
        let ms = Duration::from_millis;
        let linux = RtoEstimator::Linux;
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(120_000), linux, Some(ms(4)));
        e.sample(ms(10), seq(1), seq(1));
        assert_eq!(e.rto(), ms(212));
        e.back_off();
        assert_eq!(e.rto(), ms(424));
        let mut exact = RttEstimator::new(ms(1000), ms(200), ms(120_000), linux, None);
        exact.sample(ms(10), seq(1), seq(1));
        assert_eq!(exact.rto(), ms(210));
        // Already whole ticks: unchanged (SRTT 9.75 ms).
        e.sample(ms(8), seq(1), seq(1));
        assert_eq!(e.rto(), ms(212));
    }

    #[test]
    fn linux_rttvar_falls_once_per_window() {
        // `oracle fuzz`, reset.soerror.rexmit-extra-A of seed 380000: the
        // SYN's 10 ms, then 275 ms (a TSecr sample after an RTO, SND.UNA
        // past the first window), then 20 ms in the next window. Linux:
        // SRTT 43.1 ms, mdev 280 ms, rttvar 280 ms (RTO 323 ms); then SRTT
        // 40.2 ms, mdev 233.1 ms, and at the window's end rttvar falls a
        // quarter of the way from 280 to 233.1: 268.3 ms, RTO 308.5 ms, 312
        // in ticks. RFC 6298 with G = 200 ms drops to 276 ms at once.
        let ms = Duration::from_millis;
        let mut l = RttEstimator::new(
            ms(1000),
            ms(200),
            ms(120_000),
            RtoEstimator::Linux,
            Some(ms(4)),
        );
        let mut r = RttEstimator::new(ms(1000), ms(200), ms(120_000), G200, Some(ms(4)));
        for (e, second, third) in [(&mut l, 324, 312), (&mut r, 324, 276)] {
            e.sample(ms(10), seq(1), seq(1));
            e.sample(ms(275), seq(1461), seq(1461));
            assert_eq!(e.rto(), ms(second));
            e.sample(ms(20), seq(1462), seq(1462));
            assert_eq!(e.rto(), ms(third));
        }
        assert_eq!(l.rttvar(), Duration::from_micros(233_125 / 4));
        // Within one window rttvar only rises: a low sample leaves it.
        let mut w = RttEstimator::new(ms(1000), ms(200), ms(120_000), RtoEstimator::Linux, None);
        w.sample(ms(10), seq(1), seq(100));
        w.sample(ms(275), seq(50), seq(100));
        let high = w.rto();
        w.sample(ms(10), seq(60), seq(100));
        assert!(w.rto() <= high && w.rto() > ms(280), "{:?}", w.rto());
    }
}
