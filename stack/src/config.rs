//! Every tunable of the stack, in one place.
//!
//! [`Profile::linux`] reproduces Linux 6.x with default sysctls; each constant
//! names its Linux counterpart. The numbers marked "measured" were observed on
//! a Linux 6.18 kernel over a veth pair (198.51.100.0/24, MTU 1500, offloads as
//! shipped) with raw AF_PACKET probes:
//!
//! * SYN-ACK to `<mss 1460,sackOK,TS,nop,wscale 7>`: win 65160,
//!   `<mss 1460,sackOK,TS val X ecr Y,nop,wscale 7>`, IP ID 0, DF.
//! * SYN-ACK without TS: win 64240, `<mss 1460,nop,nop,sackOK,nop,wscale 7>`;
//!   without SACK: `<mss 1460,nop,nop,TS,nop,wscale 7>`; TS only:
//!   `<mss 1460,nop,nop,TS>`; MSS only / no options: `<mss 1460>`, win 64240.
//! * Active SYN: win 64240, `<mss 1460,sackOK,TS val X ecr 0,nop,wscale 7>`.
//! * ACK windows after the handshake (wscale 7): 510 (65160 rounded up to a
//!   multiple of 128) with TS, 502 (64240 rounded up) without.
//! * Closed port: SYN → `R.` seq 0 ack ISN+1 win 0; ACK → `R` seq SEG.ACK.
//! * ICMP echo reply: TTL 64, DF clear. ARP reply: 42 bytes, unicast.
//! * close() with unread data: `R.` seq SND.NXT ack RCV.NXT, carrying the
//!   current window and `<nop,nop,TS>`.
//!
//! The window scale follows `net.ipv4.tcp_rmem[2]`: Linux shifts
//! `max(tcp_rmem[2], rmem_max)` right until it fits in 16 bits. A host's
//! default depends on its memory (32 MiB here, giving 10), so the oracle pins
//! the Linux DUT's namespace to 6 MiB (`oracle/src/profile.rs`), which gives 7;
//! this profile matches the pinned value (measured: wscale 7, ACK windows 510).

use crate::tcp::congestion::{Algorithm, SsthreshBasis};
use crate::tcp::rtt::RtoEstimator;
use crate::time::Duration;

/// All tunables of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Link MTU (IP packet size). Linux: veth/ethernet default 1500.
    pub mtu: usize,
    /// Default IP TTL. Linux: net.ipv4.ip_default_ttl = 64.
    pub ttl: u8,
    /// Receive space used to size the initial receive window; the initial
    /// window is this rounded down to a multiple of the MSS (minus 12 with
    /// timestamps). Linux: `tcp_rmem[1]` = 131072 halved by
    /// net.ipv4.tcp_adv_win_scale = 1 → 65536, giving 64240 / 65160 (measured).
    pub rcv_space: u32,
    /// Window scale we offer. Linux: derived from `tcp_rmem[2]`; the oracle pins
    /// 6 MiB → 7 (measured; an unpinned 32 MiB host gives 10).
    pub window_scale: u8,
    /// Offer window scaling. Linux: net.ipv4.tcp_window_scaling = 1.
    pub window_scaling: bool,
    /// Offer SACK-permitted. Linux: net.ipv4.tcp_sack = 1.
    pub sack: bool,
    /// Offer timestamps. Linux: net.ipv4.tcp_timestamps = 1.
    pub timestamps: bool,
    /// Send buffer, bytes. Without [`send_memory`](Self::send_memory): a
    /// fixed bound on the bytes queued (sent and unacknowledged, or unsent).
    /// With it: Linux's `net.ipv4.tcp_wmem[1]` = 16384, the sk_sndbuf a socket
    /// starts with, before the handshake expands it.
    pub send_buffer: usize,
    /// The most the send buffer grows to with
    /// [`send_memory`](Self::send_memory). Linux: `net.ipv4.tcp_wmem[2]` = 4 MiB.
    pub send_buffer_max: usize,
    /// Receive buffer bound, bytes (storage; the window never exceeds it).
    /// Linux: `tcp_rmem[1]` = 131072.
    pub recv_buffer: usize,
    /// Bound on out-of-order segments held per connection.
    /// Linux bounds by memory (tcp_prune_ofo_queue); we bound by count.
    pub max_ooo_segments: usize,
    /// Initial RTO. Linux: TCP_TIMEOUT_INIT 1 s; RFC 6298 2.1: 1 s.
    pub rto_initial: Duration,
    /// Minimum RTO. Linux: TCP_RTO_MIN 200 ms; RFC 6298 2.4: 1 s.
    pub rto_min: Duration,
    /// Maximum RTO. Linux: TCP_RTO_MAX 120 s; RFC 6298 2.5: at least 60 s.
    pub rto_max: Duration,
    /// How the RTO follows the RTT samples. Linux: its own estimator
    /// (tcp_rtt_estimator: SRTT plus the window's largest deviation, never
    /// under TCP_RTO_MIN); RFC 6298 2.3 with the clock granularity G.
    pub rto_estimator: RtoEstimator,
    /// The RTO is kept in whole ticks, rounded up: Linux __tcp_set_rto
    /// converts SRTT + RTTVAR with usecs_to_jiffies, so on 6.18 (HZ=250)
    /// an SRTT of 16.2 ms gives tcpi_rto 220 ms, not 216.2 (measured; a
    /// zero-window probe armed by a write came 220 ms after it, `oracle
    /// fuzz`, est.close.extra-PA of seed 260000). Each backoff doubles the
    /// rounded value, so the difference doubles too. Linux: 4 ms. `None`
    /// (RFC 6298 2.3): exact.
    pub rto_tick: Option<Duration>,
    /// SYN retransmissions before ETIMEDOUT. Linux: net.ipv4.tcp_syn_retries = 6.
    pub syn_retries: u32,
    /// SYN-ACK retransmissions. Linux: net.ipv4.tcp_synack_retries = 5.
    pub synack_retries: u32,
    /// SYN retransmissions (active open) whose timeout is not backed off:
    /// the first `syn_linear_timeouts` + 1 SYN timeouts all last the initial
    /// RTO, and they come on top of `syn_retries` (Linux 6.5+
    /// net.ipv4.tcp_syn_linear_timeouts = 4: SYNs at 0, 1, 2, 3, 4, 5, 7,
    /// 11 … s, measured). RFC 6298 5.5 (MUST-19) doubles every time: 0.
    pub syn_linear_timeouts: u32,
    /// Shortest retransmission timer, armed in SYN-SENT when a segment with
    /// an unacceptable ACK arrives before any retransmission. Linux:
    /// TCP_TIMEOUT_MIN, 2 jiffies (8 ms at HZ=250); the SYN was measured
    /// 9-16 ms after the segment that armed it, mostly 9-12 ms: 11 ms.
    pub timeout_min: Duration,
    /// Data retransmissions before the connection is aborted.
    /// Linux: net.ipv4.tcp_retries2 = 15 (a time bound in Linux; approximated as a count).
    pub retries2: u32,
    /// Delayed-ACK timeout. Linux: TCP_DELACK_MIN 40 ms (the initial ATO);
    /// RFC 9293 3.8.6.3: MUST be less than 0.5 s.
    pub delayed_ack: Duration,
    /// Quick-ACK budget at the start of a connection. Linux: TCP_MAX_QUICKACKS 16.
    pub quickacks: u32,
    /// The ACK of a FIN that moves the connection to CLOSE-WAIT is delayed
    /// (`Some`), unless something else forces one: by `delayed_ack` once
    /// in-order data has arrived, else by this tick. Linux: tcp_fin enters
    /// interactive (pingpong) mode, so __tcp_ack_snd_check arms the
    /// delayed-ACK timer with the ATO, which is 0 before any data arrived,
    /// i.e. the next jiffy (4 ms at HZ=250; measured 0.4-8 ms). `None`: at
    /// once, as RFC 9293 3.10.7.4 reads ("return an ACK for the FIN").
    pub fin_ack_tick: Option<Duration>,
    /// An out-of-order segment of at least this many bytes, with SACK in
    /// use and before any in-order data, moves the delay of a later FIN's
    /// ACK (`fin_ack_tick`) to `delayed_ack`. Linux tcp_data_queue_ofo →
    /// tcp_grow_window: a segment whose payload is not small against its
    /// skb's truesize grows the window and sets `icsk_ack.quick |= 1`; the
    /// ACK that answers it leaves quick-ACK mode, and tcp_dec_quickack_mode
    /// deflates the ATO to TCP_ATO_MIN (40 ms). Measured on 6.18 over the
    /// veth: 1100 bytes never, 1170 and more always; in 1150–1169 it
    /// depends on the frame's truesize (1150 without timestamps does, 1160
    /// does not). `None`: no such effect.
    pub ooo_grow_min: Option<usize>,
    /// TIME-WAIT length (2*MSL). Linux: TCP_TIMEWAIT_LEN 60 s; RFC 9293: 2*MSL, MSL = 2 min.
    pub time_wait: Duration,
    /// Orphaned FIN-WAIT-2 timeout. Linux: net.ipv4.tcp_fin_timeout = 60 s.
    pub fin_wait2_timeout: Duration,
    /// Idle time before the first keepalive probe (SO_KEEPALIVE).
    /// Linux: net.ipv4.tcp_keepalive_time = 7200 s; RFC 1122 4.2.3.6: >= 2 h.
    pub keepalive_time: Duration,
    /// Interval between keepalive probes. Linux: net.ipv4.tcp_keepalive_intvl = 75 s.
    pub keepalive_intvl: Duration,
    /// Unanswered probes before the connection is reset.
    /// Linux: net.ipv4.tcp_keepalive_probes = 9.
    pub keepalive_probes: u32,
    /// Initial congestion window, segments. Linux: TCP_INIT_CWND 10; RFC 5681: 2-4.
    pub initial_cwnd: u32,
    /// The congestion control algorithm (net.ipv4.tcp_congestion_control;
    /// the oracle pins `reno` in the Linux DUT).
    pub congestion_control: Algorithm,
    /// What ssthresh is half of after a loss. Linux tcp_reno_ssthresh:
    /// cwnd; RFC 5681 3.1 (4): FlightSize.
    pub ssthresh_basis: SsthreshBasis,
    /// Slow start grows cwnd by at most this many SMSS per ACK (RFC 3465's
    /// L; RFC 5681 3.1: 1). 0: by everything the ACK covers, as Linux
    /// tcp_slow_start does.
    pub abc_limit: u32,
    /// Count cwnd and the flight in packets, as Linux does (snd_cwnd,
    /// tcp_packets_in_flight, tcp_cwnd_test; slow start and congestion
    /// avoidance add packets acknowledged): a segment shorter than SMSS
    /// (a small write with TCP_NODELAY, a segment cut short by SACK blocks
    /// in its options) takes a whole packet of the window. `false`: bytes,
    /// as RFC 5681 counts them (cwnd, FlightSize and the growth in octets).
    pub cwnd_packets: bool,
    /// Grow the offered receive window as data arrives, as Linux does for
    /// a socket without SO_RCVBUF: tcp_grow_window raises rcv_ssthresh by
    /// two segments per segment whose payload is large against its skb's
    /// truesize, and the window offered is the smaller of that and the
    /// memory left at the scaling ratio the last full segment showed
    /// (`tcp_measure_rcv_mss`, `__tcp_select_window`). `false`: the right
    /// edge of the initial window stays where it is until the application
    /// reads (RFC 9293 3.8.6.2.2 only asks that it never move left).
    pub grow_window: bool,
    /// Account for the send buffer as Linux does (`tcp/state/sndmem.rs`):
    /// sk_sndbuf set from the MSS and cwnd when the connection is
    /// established (tcp_sndbuf_expand: two cwnds of 2048- or 4096-byte
    /// skbs, at least ten segments) and raised when a writer waits and cwnd
    /// has room (tcp_new_space), each skb charged its data plus 832 bytes
    /// of overhead, so a write takes less when its segments are small.
    /// `false`: [`send_buffer`](Self::send_buffer) bytes, whatever their
    /// segments.
    pub send_memory: bool,
    /// Duplicate ACKs (or SACKed segments above a hole) that signal a loss
    /// (RFC 5681 3.2, RFC 6675 DupThresh). Linux: net.ipv4.tcp_reordering = 3.
    pub dupthresh: u32,
    /// RACK-style loss marking in SACK recovery (RFC 8985 6.2 with the
    /// zero reordering window Linux uses once recovering): what was sent
    /// before a delivered segment is lost. Linux runs RACK on every SACK
    /// connection (it can no longer be turned off); its reordering timer
    /// before recovery and its tail loss probes are not modelled (the
    /// oracle pins TLP off). Off: RFC 6675 IsLost only.
    pub rack: bool,
    /// Restart from the initial window after an idle period longer than the
    /// RTO (RFC 5681 4.1; Linux net.ipv4.tcp_slow_start_after_idle = 1,
    /// tcp_cwnd_restart: halve per idle RTO, not below the initial window).
    pub slow_start_after_idle: bool,
    /// Floor of the MSS the sender uses, options included, whatever the
    /// peer announces. Linux: net.ipv4.tcp_min_snd_mss = 48.
    pub min_snd_mss: u32,
    /// What a zero-window probe carries (RFC 9293 3.8.6.1 leaves it open;
    /// RFC 1122 4.2.2.17 describes one byte of new data). false: Linux
    /// tcp_xmit_probe_skb, an ACK with SEQ = SND.UNA − 1 and no data; true:
    /// the next byte of data beyond the window (BSD-style).
    pub zero_window_probe_data: bool,
    /// PSH on every this many segments of a burst, besides the last segment
    /// of the data (0: only there). Linux sends from the write queue in GSO
    /// bursts of tcp_tso_autosize() segments, at least
    /// net.ipv4.tcp_min_tso_segs = 2 (the size at low pacing rates, e.g. the
    /// first flight after a 10 ms handshake), and each burst ends with PSH
    /// (__tcp_transmit_skb sets PSH on every GSO packet "to expedite GRO
    /// flush at receiver", not on one-segment ones; measured on 6.18 over
    /// the veth without TSO: `. P. . P. …`). With [`Profile::tso_autosize`]
    /// this is the least a burst may be cut to, as tcp_min_tso_segs is.
    pub push_burst: u32,
    /// Size the bursts as Linux does (tcp_tso_segs): the pacing rate
    /// (tcp_update_pacing_rate: 200 % of cwnd · MSS / SRTT in slow start,
    /// 120 % after) over 1024, plus 65,343 >> (min RTT in µs >> 9), in
    /// whole segments, at least `push_burst`; and no burst larger than half
    /// of cwnd (tcp_cwnd_test: "at least 2 GSO packets in flight").
    /// Measured on 6.18: ten segments after a passive handshake of 1 to 4
    /// ms leave in two bursts of five; 6 ms, bursts of three; 8 ms, two.
    /// `false`: bursts of `push_burst`.
    pub tso_autosize: bool,
    /// A simultaneous open's SYN-ACK carries our SYN's options, whatever
    /// the peer's SYN offered, and our window scale stays in force even if
    /// the peer's SYN had none. Linux tcp_send_synack sends the SYN's skb
    /// again with ACK set, its options from tcp_syn_options (the sysctls;
    /// TS ecr = ts_recent), and tcp_rcv_synsent_state_process zeroes
    /// rcv_wscale only on a SYN-ACK, so the windows it advertises stay
    /// scaled (measured on 6.18: peer SYN `<mss 1460>`, our SYN-ACK
    /// `<mss 1460,sackOK,TS val … ecr 0,nop,wscale 7>`, then `win 502`).
    /// That SYN-ACK is a first transmission, so its RTT is timed (the
    /// first flight's bursts, measured, follow the time from it to the
    /// peer's SYN-ACK), unless the SYN had timed out before.
    /// `false`: RFC 7323 2.2 and 3.2, Window Scale and TSopt in a SYN-ACK
    /// only if the SYN carried them, and no scaling unless both sent it;
    /// the SYN-ACK, ISS sent again, is not timed (RFC 6298 3, Karn).
    pub simultaneous_open_syn_options: bool,
    /// The peer's MSS as Linux clamps it (rx_opt.mss_clamp) when its SYN
    /// carried no MSS option: an active open takes TCP_MAXSEG's value
    /// (tcp_connect_init sets mss_clamp to user_mss in place of
    /// tcp_v4_connect's 536, and tcp_parse_options replaces it only from
    /// an MSS option), a passive open 536, which TCP_MAXSEG does not lower
    /// (tcp_conn_request parses the SYN with mss_clamp 536; user_mss only
    /// lowers an option's value). Measured on 6.18: TCP_MAXSEG 1000 and a
    /// SYN-ACK without options, then 1000-byte segments; a listener with
    /// TCP_MAXSEG 88 and a SYN without MSS, then TCP_MAXSEG reads 524.
    /// `false`: RFC 9293 3.7.1 (MUST-15), 536 whenever no MSS option was
    /// received, lowered by TCP_MAXSEG like an option's value.
    pub linux_mss_clamp: bool,
    /// Nagle's algorithm on by default (RFC 9293 3.7.4, SHLD-7). Linux: on unless TCP_NODELAY.
    pub nagle: bool,
    /// Cap on the listen backlog. Linux: net.core.somaxconn = 4096.
    pub max_backlog: u32,
    /// Bound on half-open (SYN-RECEIVED) connections per listener.
    /// Linux: net.ipv4.tcp_max_syn_backlog = 2048 (also bounded by the backlog).
    pub max_syn_backlog: u32,
    /// Ephemeral port range. Linux: net.ipv4.ip_local_port_range = 32768 60999.
    pub ephemeral_ports: (u16, u16),
    /// ARP retransmit interval. Linux: net.ipv4.neigh.default.retrans_time_ms = 1000.
    pub arp_retrans: Duration,
    /// ARP requests before giving up. Linux: neigh.default.mcast_solicit = 3.
    pub arp_solicit: u32,
    /// Bytes queued per unresolved neighbour; the oldest frames are dropped
    /// to make room. Linux: neigh.default.unres_qlen_bytes = 212992, charged
    /// per skb truesize; we charge the frame plus
    /// [`crate::arp::PENDING_OVERHEAD`] (an approximation of truesize).
    pub arp_pending_bytes: usize,
    /// Cost of one rate-limited ICMP error. Linux: net.ipv4.icmp_ratelimit = 1000 ms.
    pub icmp_ratelimit: Duration,
    /// Bucket size in messages. Linux: XRLIM_BURST_FACTOR 6.
    pub icmp_burst: i64,
    /// Per-connection minimum interval between ACKs sent in answer to
    /// invalid segments: challenge ACKs (RFC 5961 3.2, 4.2, 5.2; its section
    /// 7 asks for throttling) and duplicate ACKs to unacceptable segments
    /// that carry no data. Linux: net.ipv4.tcp_invalid_ratelimit = 500 ms
    /// (tcp_oow_rate_limited / __tcp_oow_rate_limited on
    /// tp->last_oow_ack_time). Linux's host-wide limit,
    /// net.ipv4.tcp_challenge_ack_limit, is INT_MAX (off) since Linux 6.0 and
    /// is not modelled. Measured on Linux 6.18: a second in-window RST, SYN or
    /// ACK of unsent data 10 ms after a challenge ACK gets no answer; one
    /// 500 ms later does.
    pub invalid_ratelimit: Duration,
    /// The clock Linux keeps its connection timestamps on (tcp_jiffies32):
    /// where it compares an elapsed time with a limit, both are whole ticks
    /// (the limit rounded up, as msecs_to_jiffies does), so an interval
    /// slightly short of the limit in microseconds can be a whole limit in
    /// ticks. Used for the challenge-ACK limit (tp->last_oow_ack_time
    /// against msecs_to_jiffies(500): two segments 500 ms apart are 125
    /// ticks apart at HZ=250 and the second is answered, where exact
    /// microseconds, 499.9 ms with the first ACK 0.1 ms after its segment,
    /// would hold it back; `oracle fuzz`, est.seg-FA.missing-A of seed
    /// 230000) and for interactive mode (tcp_event_data_sent: data sent
    /// less than the ATO after icsk_ack.lrcvtime; a reply 40 ms after the
    /// data it answers is 10 ticks on, not under the 10-tick ATO;
    /// est.seg-PA.missing-A of seed 350000). Linux: 4 ms (HZ=250; the
    /// tick's phase against the stack's clock is taken as 0). `None`: exact
    /// times.
    pub jiffy: Option<Duration>,
    /// IPv4 reassembly timeout, from the first fragment. Linux:
    /// net.ipv4.ipfrag_time = 30 s (RFC 1122 3.3.2 suggests 60-120 s).
    pub ipfrag_time: Duration,
    /// Bound on the memory of incomplete datagrams. Linux:
    /// net.ipv4.ipfrag_high_thresh = 4 MiB.
    pub ipfrag_mem: usize,
    /// How long an entry confirmed by a reply stays REACHABLE. Linux:
    /// neigh base_reachable_time_ms = 30000 (randomized 0.5x-1.5x per
    /// table; fixed here).
    pub arp_reachable: Duration,
    /// DELAY before a used STALE entry is probed. Linux: neigh
    /// delay_first_probe_time = 5 s.
    pub arp_delay_probe: Duration,
    /// Unicast probes of a cached entry before it is dropped. Linux: neigh
    /// ucast_solicit = 3.
    pub arp_ucast_solicit: u32,
    /// Announce our address with a gratuitous ARP request when the
    /// interface comes up (RFC 5227 2.3's announcement, one of them). Linux:
    /// net.ipv4.conf.*.arp_notify, kernel default 0, pinned to 1 by the
    /// oracle so the behaviour can be compared.
    pub arp_notify: bool,
    /// Bytes a UDP socket may hold queued (payload plus a per-datagram
    /// overhead). Linux: net.core.rmem_default = 212992 (SO_RCVBUF).
    pub udp_rcvbuf: usize,
    /// Pad frames shorter than 60 bytes with zeros on output (RFC 894). A
    /// real Ethernet NIC pads in hardware; Linux's veth does not pad, and
    /// Linux leaves padding to the driver, so the linux profile does not
    /// (measured: 42-byte ARP replies and echo replies on veth).
    pub pad_frames: bool,
    /// Bound on the neighbour cache. Linux: neigh.default.gc_thresh3 = 1024.
    pub arp_cache_size: usize,
    /// Bound on frames waiting in the transmit queue.
    pub tx_queue: usize,
    /// Bound on open file descriptors. Linux: RLIMIT_NOFILE soft limit 1024.
    pub max_fds: usize,
}

impl Profile {
    /// Linux 6.x with default sysctls.
    pub fn linux() -> Profile {
        Profile {
            mtu: 1500,
            ttl: 64,
            rcv_space: 65536,
            window_scale: 7,
            window_scaling: true,
            sack: true,
            timestamps: true,
            send_buffer: 16_384,
            send_buffer_max: 4 << 20,
            recv_buffer: 131_072,
            max_ooo_segments: 64,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            rto_estimator: RtoEstimator::Linux,
            rto_tick: Some(Duration::from_millis(4)),
            syn_retries: 6,
            synack_retries: 5,
            syn_linear_timeouts: 4,
            timeout_min: Duration::from_millis(11),
            retries2: 15,
            delayed_ack: Duration::from_millis(40),
            quickacks: 16,
            fin_ack_tick: Some(Duration::from_millis(4)),
            ooo_grow_min: Some(1170),
            time_wait: Duration::from_secs(60),
            fin_wait2_timeout: Duration::from_secs(60),
            keepalive_time: Duration::from_secs(7200),
            keepalive_intvl: Duration::from_secs(75),
            keepalive_probes: 9,
            initial_cwnd: 10,
            congestion_control: Algorithm::Reno,
            ssthresh_basis: SsthreshBasis::Cwnd,
            abc_limit: 0,
            cwnd_packets: true,
            grow_window: true,
            send_memory: true,
            dupthresh: 3,
            rack: true,
            slow_start_after_idle: true,
            zero_window_probe_data: false,
            min_snd_mss: 48,
            push_burst: 2,
            tso_autosize: true,
            simultaneous_open_syn_options: true,
            linux_mss_clamp: true,
            nagle: true,
            max_backlog: 4096,
            max_syn_backlog: 2048,
            ephemeral_ports: (32768, 60999),
            arp_retrans: Duration::from_secs(1),
            arp_solicit: 3,
            arp_pending_bytes: 212_992,
            arp_cache_size: 1024,
            udp_rcvbuf: 212_992,
            arp_reachable: Duration::from_secs(30),
            arp_delay_probe: Duration::from_secs(5),
            arp_ucast_solicit: 3,
            arp_notify: true,
            ipfrag_time: Duration::from_secs(30),
            ipfrag_mem: 4 * 1024 * 1024,
            pad_frames: false,
            icmp_ratelimit: Duration::from_millis(1000),
            icmp_burst: 6,
            invalid_ratelimit: Duration::from_millis(500),
            jiffy: Some(Duration::from_millis(4)),
            tx_queue: 1024,
            max_fds: 1024,
        }
    }

    /// The RFCs' defaults where they give one (RFC 9293, RFC 6298, RFC 7323,
    /// RFC 5681, RFC 1122), Linux's otherwise.
    pub fn rfc() -> Profile {
        Profile {
            rto_min: Duration::from_secs(1),  // RFC 6298 2.4
            rto_max: Duration::from_secs(60), // RFC 6298 2.5
            rto_estimator: RtoEstimator::Rfc6298 {
                granularity: Duration::from_millis(1), // RFC 6298 2.3, G
            },
            rto_tick: None,                            // RFC 6298 2.3: exact
            time_wait: Duration::from_secs(240),       // RFC 9293 3.4.2: MSL = 2 min
            initial_cwnd: 4,                           // RFC 5681 3.1 with SMSS 1460: 3..4
            ssthresh_basis: SsthreshBasis::FlightSize, // RFC 5681 3.1 (4)
            abc_limit: 1,                              // RFC 5681 3.1 eq. (2)
            cwnd_packets: false,                       // RFC 5681 2: octets
            grow_window: false,
            send_buffer: 262_144,
            send_memory: false,
            rack: false,                  // RFC 6675 IsLost
            zero_window_probe_data: true, // RFC 1122 4.2.2.17
            window_scale: 7,
            delayed_ack: Duration::from_millis(200), // RFC 9293 3.8.6.3 MUST < 0.5 s
            fin_ack_tick: None,                      // RFC 9293 3.10.7.4
            ooo_grow_min: None,
            push_burst: 0, // RFC 9293 3.9.1: PSH ends the SEND
            tso_autosize: false,
            simultaneous_open_syn_options: false,
            linux_mss_clamp: false,
            syn_linear_timeouts: 0, // RFC 6298 5.5: always back off
            pad_frames: true,       // RFC 894: 46-octet minimum data field
            jiffy: None,
            ..Profile::linux()
        }
    }

    /// Our MSS: MTU minus the IPv4 and TCP headers (RFC 9293 3.7.1, MUST-14).
    pub fn mss(&self) -> u16 {
        self.mtu.saturating_sub(40).min(u16::MAX as usize) as u16
    }

    /// The most bytes a connection's send queue holds: `send_buffer`, or
    /// with `send_memory` what the largest sk_sndbuf admits (one skb of up
    /// to 64 KiB may start below the limit and end above it).
    pub fn send_capacity(&self) -> usize {
        if self.send_memory {
            self.send_buffer_max.saturating_add(1 << 17)
        } else {
            self.send_buffer
        }
    }
}

impl Default for Profile {
    fn default() -> Profile {
        Profile::linux()
    }
}
