//! The connection's counters as Linux's `getsockopt(TCP_INFO)` reports them
//! (include/uapi/linux/tcp.h, net/ipv4/tcp.c tcp_get_info), so that scripts'
//! `%{ assert tcpi_snd_cwnd == 10 }%` blocks can be checked on the stack too.
//!
//! Linux counts in segments (skbs) where the stack counts bytes; the
//! segment counts here are bytes divided by the send MSS, rounded up, which
//! equals Linux's whenever the segments in question are full-sized.

use super::*;

/// The subset of `struct tcp_info` the stack can report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// `tcpi_state`: Linux's TCP_ESTABLISHED = 1 … TCP_CLOSING = 11.
    pub state: u8,
    /// `tcpi_ca_state`: TCP_CA_Open 0, Disorder 1, CWR 2, Recovery 3, Loss 4.
    pub ca_state: u8,
    /// `tcpi_retransmits`: consecutive timeouts of the current segment.
    pub retransmits: u32,
    /// `tcpi_backoff`: RTO doublings in force.
    pub backoff: u32,
    /// `tcpi_rto`, µs.
    pub rto: u32,
    /// `tcpi_rtt` (smoothed), µs; 0 before the first sample.
    pub rtt: u32,
    /// `tcpi_rttvar`, µs.
    pub rttvar: u32,
    /// `tcpi_snd_mss`.
    pub snd_mss: u32,
    /// `tcpi_rcv_mss`.
    pub rcv_mss: u32,
    /// `tcpi_unacked`: segments sent and not cumulatively acknowledged.
    pub unacked: u32,
    /// `tcpi_sacked`: segments the peer SACKed (or, without SACK, duplicate
    /// ACKs counted as Linux's reno emulation does).
    pub sacked: u32,
    /// `tcpi_lost`: segments deemed lost, retransmitted or not (Linux's
    /// lost_out keeps a retransmitted segment until it is acknowledged).
    pub lost: u32,
    /// `tcpi_snd_cwnd`, segments.
    pub snd_cwnd: u32,
    /// `tcpi_snd_ssthresh`, segments; Linux's TCP_INFINITE_SSTHRESH
    /// (0x7fffffff) before the first reduction.
    pub snd_ssthresh: u32,
    /// `tcpi_reordering`: the duplicate-ACK threshold.
    pub reordering: u32,
    /// `tcpi_pmtu`: the path MTU.
    pub pmtu: u32,
    /// `tcpi_snd_wnd`: the peer's window, bytes.
    pub snd_wnd: u32,
    /// `tcpi_rcv_wnd`: the window last advertised, bytes.
    pub rcv_wnd: u32,
    /// `tcpi_bytes_acked`.
    pub bytes_acked: u64,
    /// `tcpi_notsent_bytes`: queued and never sent.
    pub notsent_bytes: u32,
}

impl Tcb {
    /// The counters Linux's TCP_INFO reports, as far as the stack keeps them.
    pub fn info(&self) -> TcpInfo {
        let mss = self.mss().max(1);
        let segs = |bytes: u32| bytes.div_ceil(mss);
        let state = match self.state {
            TcpState::Established => 1,
            TcpState::SynSent => 2,
            TcpState::SynReceived => 3,
            TcpState::FinWait1 => 4,
            TcpState::FinWait2 => 5,
            // Linux tcp_time_wait hands TIME-WAIT to a timewait sock and
            // closes the socket the application holds (tcp_done): its
            // TCP_INFO says TCP_CLOSE (measured on 6.18).
            TcpState::TimeWait | TcpState::Closed => 7,
            TcpState::CloseWait => 8,
            TcpState::LastAck => 9,
            TcpState::Listen => 10,
            TcpState::Closing => 11,
        };
        let ca_state = match self.ca {
            CaState::Open if self.dupacks > 0 || self.sacked_bytes() > 0 => 1,
            CaState::Open => 0,
            CaState::Recovery { .. } => 3,
            CaState::Loss { .. } => 4,
        };
        let flight = self.snd_max - self.snd_una;
        let sent = usize::try_from(flight).unwrap_or(usize::MAX);
        TcpInfo {
            state,
            ca_state,
            retransmits: self.retries,
            backoff: self.rtt.backoff(),
            rto: self.rtt.rto().total_micros().clamp(0, u32::MAX.into()) as u32,
            rtt: self
                .rtt
                .srtt()
                .map_or(0, |d| d.total_micros().clamp(0, u32::MAX.into()) as u32),
            rttvar: self.rtt.rttvar().total_micros().clamp(0, u32::MAX.into()) as u32,
            snd_mss: mss,
            rcv_mss: self.rcv_mss,
            unacked: segs(flight),
            sacked: segs(self.sacked_bytes()),
            lost: segs(self.lost_including_retransmitted()),
            snd_cwnd: self.cwnd / mss,
            snd_ssthresh: if self.ssthresh == u32::MAX {
                0x7fff_ffff
            } else {
                self.ssthresh / mss
            },
            reordering: self.profile.dupthresh,
            pmtu: self.pmtu.unwrap_or(self.profile.mtu as u32),
            snd_wnd: self.snd_wnd,
            rcv_wnd: self.rcv_wnd,
            bytes_acked: self.bytes_acked,
            notsent_bytes: u32::try_from(self.send.len().saturating_sub(sent)).unwrap_or(u32::MAX),
        }
    }

    /// Bytes deemed lost, whether retransmitted since or not.
    fn lost_including_retransmitted(&self) -> u32 {
        let CaState::Recovery { high_seq, .. } = self.ca else {
            return 0;
        };
        if self.sack_on() {
            let mut sb = self.sb.clone();
            sb.high_rxt = self.snd_una;
            sb.lost_unretransmitted(
                self.snd_una,
                self.rack_line(),
                self.profile.dupthresh,
                self.mss(),
            )
        } else if self.snd_una < high_seq {
            // RFC 6582: the segment at SND.UNA (Linux marks the head lost).
            (high_seq.min(self.snd_nxt) - self.snd_una)
                .saturating_sub(self.sacked_bytes())
                .min(self.mss())
        } else {
            0
        }
    }
}
