//! Retransmission timeout computation (RFC 6298).

use crate::time::Duration;

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
    granularity: Duration,
    tick: Option<Duration>,
}

impl RttEstimator {
    /// RFC 6298 2.1: until a measurement is made, RTO = initial (1 s).
    /// `tick`: the RTO is rounded up to whole ticks (`Profile::rto_tick`).
    pub fn new(
        initial: Duration,
        min: Duration,
        max: Duration,
        granularity: Duration,
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
            granularity,
            tick,
        }
    }

    /// Feed one RTT measurement (never from a retransmitted segment: Karn's
    /// rule, RFC 6298 3, is enforced by the caller).
    pub fn sample(&mut self, r: Duration) {
        let r = r.max(Duration::ZERO);
        // Linux tcp_update_rtt_min: the least sample (its window, 300 s,
        // outlasts any connection the harness drives).
        self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        match self.srtt {
            None => {
                // RFC 6298 2.2
                self.srtt = Some(r);
                self.rttvar = Duration::from_micros(r.total_micros() / 2);
            }
            Some(srtt) => {
                // RFC 6298 2.3: beta = 1/4, alpha = 1/8
                let err = (srtt.total_micros() - r.total_micros()).abs();
                self.rttvar = Duration::from_micros((3 * self.rttvar.total_micros() + err) / 4);
                self.srtt = Some(Duration::from_micros(
                    (7 * srtt.total_micros() + r.total_micros()) / 8,
                ));
            }
        }
        let srtt = self.srtt.unwrap_or(Duration::ZERO);
        // RFC 6298 2.3: RTO = SRTT + max(G, K*RTTVAR), K = 4; 2.4/2.5 clamp.
        let mut rto = srtt + self.granularity.max(self.rttvar.saturating_mul(4));
        // Linux __tcp_set_rto: usecs_to_jiffies rounds up to a tick.
        if let Some(t) = self.tick.map(|t| t.total_micros()).filter(|&t| t > 0) {
            let us = rto.total_micros();
            rto = Duration::from_micros(us.saturating_add(t - 1) / t * t);
        }
        self.rto = rto.max(self.min).min(self.max);
        // RFC 6298 5.7 note: a new sample after backoff collapses the backoff.
        self.backoff = 0;
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

    #[test]
    fn rfc6298() {
        let mut e = RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(120),
            Duration::from_millis(200),
            None,
        );
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.back_off();
        assert_eq!(e.rto(), Duration::from_secs(2));
        e.sample(Duration::from_millis(100));
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
        // variance floored at 200 ms: 210 ms is 52.5 ticks, so 212 ms;
        // backoff doubles the rounded value.
        let ms = Duration::from_millis;
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(120_000), ms(200), Some(ms(4)));
        e.sample(ms(10));
        assert_eq!(e.rto(), ms(212));
        e.back_off();
        assert_eq!(e.rto(), ms(424));
        let mut exact = RttEstimator::new(ms(1000), ms(200), ms(120_000), ms(200), None);
        exact.sample(ms(10));
        assert_eq!(exact.rto(), ms(210));
        // Already whole ticks: unchanged.
        e.sample(ms(8));
        assert_eq!(e.rto(), ms(212));
    }
}
