//! The Linux profile: the sysctls the oracle pins in the Linux DUT's namespace
//! before every run, so that Linux's behaviour does not depend on the host.
//!
//! A new network namespace takes most `net.ipv4.tcp_*` values from the
//! kernel's compiled-in defaults, but `tcp_congestion_control` is inherited
//! from the host's default (BBR on this project's machines), and inside an
//! unprivileged namespace only `reno` and the host's default may be chosen
//! without loading modules on the host. The stack's `linux` profile
//! (`stack::Profile::linux`) mirrors these values.

/// `(sysctl under /proc/sys, value, why)`.
pub const LINUX_SYSCTLS: &[(&str, &str, &str)] = &[
    (
        "net/ipv4/tcp_congestion_control",
        "reno",
        "RFC 5681 Reno; BBR (the host default) has no counterpart in the stack and cannot be \
         compared; CUBIC would need the host's module",
    ),
    (
        "net/ipv4/tcp_sack",
        "1",
        "SACK-permitted offered (RFC 2018)",
    ),
    (
        "net/ipv4/tcp_timestamps",
        "1",
        "timestamps offered (RFC 7323)",
    ),
    (
        "net/ipv4/tcp_window_scaling",
        "1",
        "window scale offered (RFC 7323)",
    ),
    (
        "net/ipv4/tcp_ecn",
        "2",
        "ECN only when the peer asks (Linux default)",
    ),
    (
        "net/ipv4/tcp_rmem",
        "4096 131072 6291456",
        "kernel defaults: 128 KiB initial receive buffer, window scale 7; the host's own \
         values may differ",
    ),
    ("net/ipv4/tcp_wmem", "4096 16384 4194304", "kernel defaults"),
    (
        "net/ipv4/tcp_syn_retries",
        "6",
        "kernel default: 6 SYN retransmissions",
    ),
    (
        "net/ipv4/tcp_syn_linear_timeouts",
        "4",
        "kernel default (Linux 6.5+): the first SYN timeouts are not backed off",
    ),
    ("net/ipv4/tcp_synack_retries", "5", "kernel default"),
    (
        "net/ipv4/tcp_abort_on_overflow",
        "0",
        "kernel default: a final ACK to a full accept queue is dropped, not reset",
    ),
    (
        "net/ipv4/tcp_syncookies",
        "1",
        "kernel default: cookies only when the SYN queue overflows",
    ),
    ("net/ipv4/tcp_fin_timeout", "60", "kernel default"),
    (
        "net/ipv4/tcp_rfc1337",
        "0",
        "kernel default: an in-window RST ends TIME-WAIT (tcp_timewait_state_process)",
    ),
    (
        "net/ipv4/tcp_no_metrics_save",
        "1",
        "no cached per-destination metrics between runs",
    ),
    (
        "net/ipv4/tcp_early_retrans",
        "0",
        "tail loss probes (RACK-TLP's TLP, RFC 8985 7) off: the stack has no TLP, and a probe \
         2*SRTT after the last send would race every scripted loss",
    ),
    (
        "net/ipv4/tcp_recovery",
        "1",
        "kernel default. RACK loss detection (RFC 8985) is always on for SACK connections in \
         current kernels whatever this says (measured on 6.18: tcp_recovery=0 still retransmits a \
         hole one reordering window after a single SACK); scenarios deliver the DupThresh \
         SACKs together, where RACK and RFC 6675 agree",
    ),
    (
        "net/ipv4/tcp_frto",
        "0",
        "F-RTO (RFC 5682) off: after an RTO Linux goes back N as RFC 5681 and RFC 6298 \
         describe, which the stack implements",
    ),
    (
        "net/ipv4/tcp_min_snd_mss",
        "48",
        "kernel default: the send MSS floor whatever the peer announces (stack: \
         Profile::min_snd_mss)",
    ),
    ("net/ipv4/tcp_autocorking", "1", "kernel default"),
    ("net/ipv4/tcp_slow_start_after_idle", "1", "kernel default"),
    (
        "net/ipv4/tcp_invalid_ratelimit",
        "500",
        "kernel default: one challenge ACK or out-of-window dupack per 500 ms per connection \
         (stack: Profile::invalid_ratelimit)",
    ),
    (
        "net/ipv4/tcp_challenge_ack_limit",
        "2147483647",
        "kernel default since 6.0: no host-wide challenge ACK limit (RFC 5961 7)",
    ),
    // ---- IPv4, ICMP and ARP (the lower half). A new namespace copies
    // net.ipv4.conf.{all,default} from the host's (devconf_inherit_init_net
    // 0), so a host with rp_filter 2 or forwarding on would leak into the
    // DUT; each is pinned to the kernel's compiled-in default, on `all` and
    // on the DUT's own interface (`{dut}`: effective values are the max or
    // the OR of the two, or the interface's own for forwarding).
    (
        "net/ipv4/ip_forward",
        "0",
        "kernel default: a host, not a router; a datagram for another address is dropped without \
         an ICMP error (ip_error counts it only when forwarding is off; RFC 1122 3.3.4.2 lets a          host drop it)",
    ),
    ("net/ipv4/conf/all/forwarding", "0", "as ip_forward"),
    ("net/ipv4/conf/{dut}/forwarding", "0", "as ip_forward"),
    (
        "net/ipv4/conf/all/rp_filter",
        "0",
        "kernel default (hosts often set 2): no reverse-path check of sources",
    ),
    ("net/ipv4/conf/{dut}/rp_filter", "0", "as conf/all"),
    (
        "net/ipv4/conf/all/arp_ignore",
        "0",
        "kernel default: answer a who-has for any local address",
    ),
    ("net/ipv4/conf/{dut}/arp_ignore", "0", "as conf/all"),
    ("net/ipv4/conf/all/arp_filter", "0", "kernel default"),
    ("net/ipv4/conf/{dut}/arp_filter", "0", "kernel default"),
    ("net/ipv4/conf/all/arp_announce", "0", "kernel default"),
    ("net/ipv4/conf/{dut}/arp_announce", "0", "kernel default"),
    (
        "net/ipv4/conf/all/arp_accept",
        "0",
        "kernel default: a gratuitous ARP updates an existing entry but creates none (stack: \
         NeighborCache::learn with create=false)",
    ),
    ("net/ipv4/conf/{dut}/arp_accept", "0", "as conf/all"),
    (
        "net/ipv4/conf/all/arp_notify",
        "1",
        "not the kernel default (0): announce the address with a gratuitous ARP when the \
         interface comes up (RFC 5227 2.3), which arp/gratuitous-announce compares; scenarios \
         whose interface is up before they start cannot see it (stack: Profile::arp_notify)",
    ),
    ("net/ipv4/conf/{dut}/arp_notify", "1", "as conf/all"),
    ("net/ipv4/conf/all/proxy_arp", "0", "kernel default: no proxy ARP"),
    ("net/ipv4/conf/{dut}/proxy_arp", "0", "kernel default: no proxy ARP"),
    (
        "net/ipv4/icmp_echo_ignore_broadcasts",
        "1",
        "kernel default: echo requests to a broadcast address are not answered (RFC 1122 \
         3.2.2.6 MAY; stack: Host::process_ipv4)",
    ),
    ("net/ipv4/icmp_echo_ignore_all", "0", "kernel default: echo requests are answered"),
    (
        "net/ipv4/icmp_ratelimit",
        "1000",
        "kernel default: one ICMP error per second per destination after a burst of 6 (stack: \
         Profile::icmp_ratelimit, icmp_burst)",
    ),
    (
        "net/ipv4/icmp_ratemask",
        "6168",
        "kernel default: the limit applies to destination unreachable, source quench, time \
         exceeded and parameter problem",
    ),
    (
        "net/ipv4/icmp_msgs_per_sec",
        "1000",
        "kernel default: the host-wide ICMP budget, far above what a scenario sends",
    ),
    ("net/ipv4/icmp_msgs_burst", "50", "kernel default"),
    (
        "net/ipv4/ipfrag_time",
        "30",
        "kernel default: an incomplete datagram is dropped 30 s after its first fragment \
         (stack: Profile::ipfrag_time)",
    ),
    (
        "net/ipv4/ipfrag_high_thresh",
        "4194304",
        "kernel default: 4 MiB of incomplete datagrams at most (stack: Profile::ipfrag_mem)",
    ),
    (
        "net/ipv4/neigh/{dut}/retrans_time_ms",
        "1000",
        "kernel default: an unanswered who-has is repeated every second (stack: \
         Profile::arp_retrans)",
    ),
    (
        "net/ipv4/neigh/{dut}/mcast_solicit",
        "3",
        "kernel default: three broadcast who-has before resolution fails (stack: \
         Profile::arp_solicit)",
    ),
    ("net/ipv4/neigh/{dut}/app_solicit", "0", "kernel default"),
    (
        "net/ipv4/neigh/{dut}/ucast_solicit",
        "3",
        "kernel default: three unicast probes of a stale entry before it fails (stack: \
         Profile::arp_ucast_solicit)",
    ),
    (
        "net/ipv4/neigh/{dut}/delay_first_probe_time",
        "5",
        "kernel default: a used stale entry is probed 5 s later (stack: Profile::arp_delay_probe)",
    ),
    (
        "net/ipv4/neigh/{dut}/base_reachable_time_ms",
        "30000",
        "kernel default: a confirmed entry stays reachable 15-45 s (stack: 30 s, \
         Profile::arp_reachable); scenarios stay clear of that range",
    ),
];

/// The pinned sysctls as `(key, value)` pairs for the topology.
pub fn linux_sysctls() -> Vec<(String, String)> {
    LINUX_SYSCTLS
        .iter()
        .map(|(k, v, _)| (k.to_string(), v.to_string()))
        .collect()
}
