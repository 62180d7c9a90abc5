use super::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

use tcp_flags::*;

fn ok(src: &str) -> Script {
    match parse("t.pkt", src) {
        Ok(s) => s,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn err(src: &str) -> String {
    match parse("t.pkt", src) {
        Ok(s) => panic!("expected an error, parsed {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn tcp(ev: &Event) -> &TcpSpec {
    match &ev.kind {
        EventKind::Packet(PacketEvent {
            packet: PacketSpec::Tcp(t),
            ..
        }) => t,
        k => panic!("not a TCP packet: {k:?}"),
    }
}

fn call(ev: &Event) -> &CallEvent {
    match &ev.kind {
        EventKind::Call(c) => c,
        k => panic!("not a call: {k:?}"),
    }
}

fn dir(ev: &Event) -> Direction {
    match &ev.kind {
        EventKind::Packet(p) => p.direction,
        k => panic!("not a packet: {k:?}"),
    }
}

fn id(s: &str) -> Expr {
    Expr::Ident(s.to_string())
}

fn start(ev: &Event) -> TimeSpec {
    ev.time.expect("event has a time").start
}

/// Passive open, data in both directions, close (packetdrill suite style).
const PASSIVE_OPEN: &str = r#"// Establish a connection and exchange data.
--tolerance_usecs=10000
--ip_version=ipv4

0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0

+0  < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100,nop,wscale 8>
+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr 100>
+0  accept(3, ..., ...) = 4

+0  < P. 1:1001(1000) ack 1 win 257
+0  > . 1:1(0) ack 1001
+0  read(4, ..., 1000) = 1000
+0  write(4, ..., 1000) = 1000
+0  > P. 1:1001(1000) ack 1001
+.1 < . 1001:1001(0) ack 1001 win 257

/* The peer closes first. */
+0  < F. 1001:1001(0) ack 1001 win 257
+0  > . 1001:1001(0) ack 1002
+0  read(4, ..., 1000) = 0
+0  close(4) = 0
+0  > F. 1001:1001(0) ack 1002
+.1 < . 1002:1002(0) ack 1002 win 257
"#;

/// Active open refused by a RST (packetdrill suite style).
const ACTIVE_OPEN_REFUSED: &str = r#"
0 `sysctl -q net.ipv4.tcp_timestamps=0`
0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
0.000 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
0.000 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("198.51.100.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
0.000 > S 0:0(0) <mss 1460,sackOK,nop,nop,nop,wscale 7>
0.100 < R. 0:0(0) ack 1 win 0
0.100 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
+0 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)
+0 close(3) = 0
"#;

/// Blocking accept, a timed window, retransmission with SACK, a RST abort.
const RETRANSMIT_SACK: &str = r#"
`sysctl -q net.ipv4.tcp_sack=1`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
0.100...0.200 accept(3, ..., ...) = 4
0.100 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
0.100 > S. 0:0(0) ack 1 <...>
0.200 < . 1:1(0) ack 1 win 257
+0 write(4, ..., 3000) = 3000
+0 > . 1:1001(1000) ack 1
+0 > . 1001:2001(1000) ack 1
+0 > P. 2001:3001(1000) ack 1
+.05 < . 1:1(0) ack 1 win 257 <sack 2001:3001,nop,nop>
+.2~+.4 > . 1:1001(1000) ack 1
+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0
+0 close(4) = 0
* > R. 3001:3001(0) ack 1 win 0
"#;

#[test]
fn passive_open_script() {
    let s = ok(PASSIVE_OPEN);
    assert_eq!(s.path, "t.pkt");
    assert_eq!(s.options.len(), 2);
    assert_eq!(s.options[0].name, "tolerance_usecs");
    assert_eq!(s.options[0].value.as_deref(), Some("10000"));
    assert_eq!(s.options[0].span, Span { line: 2, col: 1 });
    assert_eq!(s.options[1].to_string(), "--ip_version=ipv4");
    assert_eq!(s.events.len(), 20);

    let e = &s.events[0];
    assert_eq!(e.span, Span { line: 5, col: 1 });
    assert_eq!(start(e), TimeSpec::Absolute(0));
    assert_eq!(e.text, "0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
    let c = call(e);
    assert_eq!(c.name, "socket");
    assert_eq!(
        c.args,
        vec![Expr::Ellipsis, id("SOCK_STREAM"), id("IPPROTO_TCP")]
    );
    assert_eq!(c.result.value, Some(3));

    let c = call(&s.events[1]);
    assert_eq!(c.args[3], Expr::Array(vec![Expr::Int(1)]));
    assert_eq!(start(&s.events[1]), TimeSpec::Relative(0));

    let syn = &s.events[4];
    assert_eq!(dir(syn), Direction::Inbound);
    let t = tcp(syn);
    assert_eq!(t.flags, SYN);
    assert_eq!((t.seq, t.end_seq, t.len), (0, 0, 0));
    assert_eq!(t.ack, None);
    assert_eq!(t.win, Some(65535));
    assert_eq!(
        t.options,
        Some(TcpOptionsSpec::List(vec![
            TcpOptionSpec::Mss(1460),
            TcpOptionSpec::SackOk,
            TcpOptionSpec::Timestamp { val: 100, ecr: 0 },
            TcpOptionSpec::Nop,
            TcpOptionSpec::WScale(7),
        ]))
    );

    let synack = &s.events[5];
    assert_eq!(dir(synack), Direction::Outbound);
    let t = tcp(synack);
    assert_eq!(t.flags, SYN | ACK);
    assert_eq!(t.ack, Some(1));
    assert_eq!(t.win, None, "omitted window is kept as None");
    assert_eq!(
        synack.kind.to_string(),
        "> S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100,nop,wscale 8>"
    );

    assert_eq!(start(&s.events[6]), TimeSpec::Relative(100_000));
    let data = tcp(&s.events[8]);
    assert_eq!(data.flags, PSH | ACK);
    assert_eq!((data.seq, data.end_seq, data.len), (1, 1001, 1000));
    assert_eq!(data.options, None);

    let fin = &s.events[14];
    assert_eq!(fin.span, Span { line: 23, col: 1 });
    assert_eq!(tcp(fin).flags, FIN | ACK);
    assert_eq!(call(&s.events[17]).name, "close");
    assert_eq!(tcp(&s.events[19]).ack, Some(1002));
}

#[test]
fn active_open_refused_script() {
    let s = ok(ACTIVE_OPEN_REFUSED);
    assert_eq!(s.options, vec![]);
    assert_eq!(s.events.len(), 9);
    assert_eq!(
        s.events[0].kind,
        EventKind::Shell("sysctl -q net.ipv4.tcp_timestamps=0".into())
    );
    assert_eq!(start(&s.events[0]), TimeSpec::Absolute(0));
    assert_eq!(
        call(&s.events[2]).args[2],
        Expr::BitOr(vec![id("O_RDWR"), id("O_NONBLOCK")])
    );
    let c = call(&s.events[3]);
    assert_eq!(
        c.args[1],
        Expr::Struct(vec![
            ("sa_family".into(), id("AF_INET")),
            (
                "sin_port".into(),
                Expr::Call("htons".into(), vec![Expr::Int(8080)])
            ),
            (
                "sin_addr".into(),
                Expr::Call("inet_addr".into(), vec![Expr::Str("198.51.100.1".into())])
            ),
        ])
    );
    assert_eq!(
        c.result,
        CallResult {
            value: Some(-1),
            errno: Some("EINPROGRESS".into()),
            note: Some("Operation now in progress".into()),
        }
    );
    let t = tcp(&s.events[4]);
    assert_eq!(dir(&s.events[4]), Direction::Outbound);
    assert_eq!((t.flags, t.ack, t.win), (SYN, None, None));
    let rst = tcp(&s.events[5]);
    assert_eq!(rst.flags, RST | ACK);
    assert_eq!(rst.win, Some(0));
    assert_eq!(start(&s.events[5]), TimeSpec::Absolute(100_000));
    assert_eq!(
        call(&s.events[6]).args,
        vec![
            Expr::Int(3),
            id("SOL_SOCKET"),
            id("SO_ERROR"),
            Expr::Array(vec![id("ECONNREFUSED")]),
            Expr::Array(vec![Expr::Int(4)]),
        ]
    );
    assert_eq!(
        s.events[7].kind.to_string(),
        "connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)"
    );
}

#[test]
fn retransmit_sack_script() {
    let s = ok(RETRANSMIT_SACK);
    assert_eq!(s.events.len(), 17);
    let sh = &s.events[0];
    assert_eq!(sh.time, None);
    assert_eq!(
        sh.kind,
        EventKind::Shell("sysctl -q net.ipv4.tcp_sack=1".into())
    );
    let acc = &s.events[4];
    assert_eq!(
        acc.time,
        Some(EventTime {
            start: TimeSpec::Absolute(100_000),
            range_end: None,
            blocking_end: Some(TimeSpec::Absolute(200_000)),
        })
    );
    assert_eq!(call(acc).result.value, Some(4));
    assert_eq!(tcp(&s.events[6]).options, Some(TcpOptionsSpec::Any));
    assert_eq!(
        tcp(&s.events[12]).options,
        Some(TcpOptionsSpec::List(vec![
            TcpOptionSpec::Sack(vec![(2001, 3001)]),
            TcpOptionSpec::Nop,
            TcpOptionSpec::Nop,
        ]))
    );
    let rtx = &s.events[13];
    assert_eq!(
        rtx.time,
        Some(EventTime {
            start: TimeSpec::Relative(200_000),
            range_end: Some(TimeSpec::Relative(400_000)),
            blocking_end: None,
        })
    );
    assert_eq!(rtx.to_string(), "+0.2~+0.4 > . 1:1001(1000) ack 1");
    assert_eq!(
        call(&s.events[14]).args[3],
        Expr::Struct(vec![
            ("l_onoff".into(), Expr::Int(1)),
            ("l_linger".into(), Expr::Int(0)),
        ])
    );
    let last = &s.events[16];
    assert_eq!(start(last), TimeSpec::Any);
    assert_eq!(tcp(last).flags, RST | ACK);
}

#[test]
fn times() {
    let cases: &[(&str, EventTime)] = &[
        ("0", at(TimeSpec::Absolute(0))),
        ("0.100", at(TimeSpec::Absolute(100_000))),
        ("1.5", at(TimeSpec::Absolute(1_500_000))),
        ("+0", at(TimeSpec::Relative(0))),
        ("+.1", at(TimeSpec::Relative(100_000))),
        ("+0.100", at(TimeSpec::Relative(100_000))),
        ("+1.000001", at(TimeSpec::Relative(1_000_001))),
        ("2.5000000", at(TimeSpec::Absolute(2_500_000))),
        ("*", at(TimeSpec::Any)),
        (
            "0.1~0.2",
            EventTime {
                range_end: Some(TimeSpec::Absolute(200_000)),
                ..at(TimeSpec::Absolute(100_000))
            },
        ),
        (
            "+0~+0.1",
            EventTime {
                range_end: Some(TimeSpec::Relative(100_000)),
                ..at(TimeSpec::Relative(0))
            },
        ),
        (
            "+0...0.5",
            EventTime {
                blocking_end: Some(TimeSpec::Absolute(500_000)),
                ..at(TimeSpec::Relative(0))
            },
        ),
    ];
    for (t, want) in cases {
        let s = ok(&format!("{t} close(3) = 0\n"));
        assert_eq!(s.events[0].time.as_ref(), Some(want), "time {t}");
    }
    // `+0.0>` with no blank before the direction (seen in public scripts).
    let s = ok("+0.0> P. 1161:1461(300) ack 1");
    assert_eq!(tcp(&s.events[0]).len, 300);
}

fn at(start: TimeSpec) -> EventTime {
    EventTime {
        start,
        range_end: None,
        blocking_end: None,
    }
}

#[test]
fn tcp_details() {
    let s = ok("0 < SEW 0:0(0) win 100 urg 5\n\
                0 > [ect0] S.E 0:0(0) ack 1 <mss 1460,eol>\n\
                0 < [ce] . 1:1(0) ack 1 win 1 <sack 1:2 3:4 5:6 7:8>\n\
                0 < [noecn] U 1:1(0) win 1 <>\n\
                0 < [ect1] R 1:1(0) win 0\n\
                0 > [ect01] F 4294967295:9(10)\n");
    let t = tcp(&s.events[0]);
    assert_eq!(t.flags, SYN | ECE | CWR);
    assert_eq!(t.urg, Some(5));
    assert_eq!(t.to_string(), "SEW 0:0(0) win 100 urg 5");
    let EventKind::Packet(p) = &s.events[1].kind else {
        panic!()
    };
    assert_eq!(p.ecn, Some(Ecn::Ect0));
    assert_eq!(p.to_string(), "> [ect0] S.E 0:0(0) ack 1 <mss 1460,eol>");
    assert_eq!(
        tcp(&s.events[2]).options,
        Some(TcpOptionsSpec::List(vec![TcpOptionSpec::Sack(vec![
            (1, 2),
            (3, 4),
            (5, 6),
            (7, 8)
        ])]))
    );
    assert_eq!(
        tcp(&s.events[3]).options,
        Some(TcpOptionsSpec::List(vec![]))
    );
    assert_eq!(tcp(&s.events[3]).flags, URG);
    let EventKind::Packet(p) = &s.events[5].kind else {
        panic!()
    };
    assert_eq!(p.ecn, Some(Ecn::Ect01));
    assert_eq!(tcp(&s.events[5]).len, 10, "sequence space wraps");
}

#[test]
fn tcp_port_names_the_testbench_end_of_a_connection() {
    let s = ok("0 < S 0:0(0) win 100 port 40001 <mss 1460>\n");
    let t = tcp(&s.events[0]);
    assert_eq!(t.port, Some(40001));
    assert_eq!(t.to_string(), "S 0:0(0) win 100 port 40001 <mss 1460>");
    assert!(err("0 < S 0:0(0) port 1 port 2\n").contains("a single `port`"));
    assert_eq!(tcp(&ok("0 < S 0:0(0)\n").events[0]).port, None);
}

#[test]
fn udp_icmp_arp() {
    let s = ok(r#"
0 < udp (1000)
0 > udp (1000)
0 < icmp echo_request id 1 seq 1 (56)
0 > icmp echo_reply id 1 seq 1 (56)
+0.01 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
0.250 < [1:1461(1460)] icmp unreachable frag_needed mtu 1500
0 < icmp unreachable port_unreachable [udp (100)]
0 < icmp time_exceeded
0 < arp who-has 198.51.100.2 tell 198.51.100.1
0 < arp who-has 198.51.100.2 tell 198.51.100.1 from 02:00:00:00:00:09 to dut_mac
0 > arp reply 198.51.100.2 is-at 02:00:00:00:00:02
0 > arp reply 198.51.100.2 is-at *
0 > arp who-has 198.51.100.1 tell 198.51.100.2 to ff:ff:ff:ff:ff:ff
0 < arp reply 198.51.100.1 is-at tb_mac to dut_mac
"#);
    let pk = |i: usize| match &s.events[i].kind {
        EventKind::Packet(p) => p.packet.clone(),
        k => panic!("{k:?}"),
    };
    assert_eq!(pk(0), PacketSpec::Udp(UdpSpec { len: 1000 }));
    assert_eq!(dir(&s.events[1]), Direction::Outbound);
    assert_eq!(
        pk(2),
        PacketSpec::Icmp(IcmpSpec::Echo {
            kind: EchoType::Request,
            id: 1,
            seq: 1,
            len: 56
        })
    );
    assert_eq!(
        s.events[3].kind.to_string(),
        "> icmp echo_reply id 1 seq 1 (56)"
    );
    let frag = PacketSpec::Icmp(IcmpSpec::Error {
        type_name: "unreachable".into(),
        code: Some("frag_needed".into()),
        mtu: Some(1200),
        echoed: Some(IcmpEchoed::Tcp {
            seq: 1,
            end_seq: 1461,
            len: 1460,
        }),
    });
    assert_eq!(pk(4), frag);
    assert_eq!(
        s.events[4].kind.to_string(),
        "< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]"
    );
    let PacketSpec::Icmp(IcmpSpec::Error { mtu, echoed, .. }) = pk(5) else {
        panic!()
    };
    assert_eq!(mtu, Some(1500));
    assert!(matches!(
        echoed,
        Some(IcmpEchoed::Tcp { end_seq: 1461, .. })
    ));
    let PacketSpec::Icmp(IcmpSpec::Error { echoed, code, .. }) = pk(6) else {
        panic!()
    };
    assert_eq!(echoed, Some(IcmpEchoed::Udp { len: 100 }));
    assert_eq!(code.as_deref(), Some("port_unreachable"));
    assert_eq!(
        pk(7),
        PacketSpec::Icmp(IcmpSpec::Error {
            type_name: "time_exceeded".into(),
            code: None,
            mtu: None,
            echoed: None
        })
    );
    let a = Ipv4Addr::new(198, 51, 100, 1);
    let b = Ipv4Addr::new(198, 51, 100, 2);
    assert_eq!(
        pk(8),
        PacketSpec::Arp(ArpSpec::Request {
            target_ip: b,
            sender_ip: a,
            sender_mac: None,
            eth_dst: None
        })
    );
    assert_eq!(
        pk(9),
        PacketSpec::Arp(ArpSpec::Request {
            target_ip: b,
            sender_ip: a,
            sender_mac: Some(MacSpec::Literal([2, 0, 0, 0, 0, 9])),
            eth_dst: Some(MacSpec::Dut),
        })
    );
    assert_eq!(
        pk(10),
        PacketSpec::Arp(ArpSpec::Reply {
            sender_ip: b,
            sender_mac: MacSpec::Literal([2, 0, 0, 0, 0, 2]),
            eth_dst: None
        })
    );
    assert_eq!(
        s.events[10].kind.to_string(),
        "> arp reply 198.51.100.2 is-at 02:00:00:00:00:02"
    );
    assert!(matches!(
        pk(11),
        PacketSpec::Arp(ArpSpec::Reply {
            sender_mac: MacSpec::Any,
            ..
        })
    ));
    assert_eq!(
        s.events[12].kind.to_string(),
        "> arp who-has 198.51.100.1 tell 198.51.100.2 to ff:ff:ff:ff:ff:ff"
    );
    assert_eq!(
        pk(13),
        PacketSpec::Arp(ArpSpec::Reply {
            sender_ip: a,
            sender_mac: MacSpec::Testbench,
            eth_dst: Some(MacSpec::Dut)
        })
    );
}

#[test]
fn calls_and_expressions() {
    let s = ok(r#"
+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=0}], 1, -0x10) = ...
+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "cu\"bic\n", 5) = 0
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
+0 sendto(4,
          ...,
          1000, 0) = 1000   // args may span lines
+0 f() = -9223372036854775808 EFOO
+0 g({}, [], h()) = 0 (note (with parens))
"#);
    let c = call(&s.events[0]);
    assert_eq!(c.result.value, None);
    assert_eq!(
        c.args[0],
        Expr::Array(vec![Expr::Struct(vec![
            ("fd".into(), Expr::Int(4)),
            (
                "events".into(),
                Expr::BitOr(vec![id("POLLIN"), id("POLLOUT")])
            ),
            ("revents".into(), Expr::Int(0)),
        ])])
    );
    assert_eq!(c.args[2], Expr::Int(-16));
    assert_eq!(
        c.to_string(),
        "poll([{fd=4, events=POLLIN|POLLOUT, revents=0}], 1, -16) = ..."
    );
    let c = call(&s.events[1]);
    assert_eq!(c.args[3], Expr::Str("cu\"bic\n".into()));
    assert_eq!(c.args[3].to_string(), r#""cu\"bic\n""#);
    let e = &s.events[3];
    assert_eq!(call(e).args.len(), 4);
    assert_eq!(e.span, Span { line: 5, col: 1 });
    assert!(e.text.starts_with("+0 sendto(4,") && e.text.ends_with("= 1000"));
    let c = call(&s.events[4]);
    assert_eq!(c.result.value, Some(i64::MIN));
    assert_eq!(c.result.errno.as_deref(), Some("EFOO"));
    let c = call(&s.events[5]);
    assert_eq!(
        c.args,
        vec![
            Expr::Struct(vec![]),
            Expr::Array(vec![]),
            Expr::Call("h".into(), vec![])
        ]
    );
    assert_eq!(c.result.note.as_deref(), Some("note (with parens)"));
}

#[test]
fn shell_python_comments() {
    let s = ok("/* header\n   comment */\n\
                `echo hi`\n\
                +0 `ip link show` // trailing\n\
                %{\nimport os\nprint(1)\n}%\n\
                +1 %{ assert tcpi_rto == 1 }%\n\
                0 close(3) = 0 /* inline */ // and more\n");
    assert_eq!(s.events.len(), 5);
    assert_eq!(s.events[0].span, Span { line: 3, col: 1 });
    assert_eq!(s.events[1].kind, EventKind::Shell("ip link show".into()));
    assert_eq!(s.events[1].text, "+0 `ip link show`");
    assert_eq!(
        s.events[2].kind,
        EventKind::Python("\nimport os\nprint(1)\n".into())
    );
    assert_eq!(s.events[2].time, None);
    assert_eq!(
        s.events[3].kind,
        EventKind::Python(" assert tcpi_rto == 1 ".into())
    );
    assert_eq!(start(&s.events[3]), TimeSpec::Relative(1_000_000));
    assert_eq!(s.events[4].text, "0 close(3) = 0");
}

#[test]
fn options_forms() {
    let s = ok("--tolerance_usecs=10000 --strict\n--define=X=1\n0 close(3) = 0\n");
    let o: Vec<(String, Option<String>)> = s
        .options
        .iter()
        .map(|o| (o.name.clone(), o.value.clone()))
        .collect();
    assert_eq!(
        o,
        vec![
            ("tolerance_usecs".into(), Some("10000".into())),
            ("strict".into(), None),
            ("define".into(), Some("X=1".into())),
        ]
    );
    assert_eq!(
        err("0 close(3) = 0\n--late=1\n"),
        "t.pkt:2:1: expected event (option lines must come before the first event), found `-`"
    );
}

#[test]
fn syntax_errors() {
    let cases: &[(&str, &str)] = &[
        // missing (len)
        (
            "0 < P. 1:1001 ack 1 win 257",
            "t.pkt:1:15: expected `(LEN)` after `START:END`, found `ack`",
        ),
        // end - start != len
        (
            "0 < P. 1:1001(999) ack 1",
            "t.pkt:1:15: expected payload length 1000 (END - START), found `999`",
        ),
        // unknown flag letter
        (
            "0 < SX. 0:0(0) win 1",
            "t.pkt:1:6: expected TCP flag (one of `S F R P . E W U`), found `X`",
        ),
        (
            "0 < foo 0:0(0)",
            "t.pkt:1:5: expected packet type (TCP flags, `udp`, `icmp` or `arp`), found `foo`",
        ),
        // unterminated option list
        (
            "0 < S 0:0(0) win 1 <mss 1460,nop\n+0 close(3) = 0",
            "t.pkt:1:33: expected `,` or `>` in TCP option list, found end of line",
        ),
        // unknown option
        (
            "0 > S. 0:0(0) ack 1 <mss 1460,bogus 3>",
            "t.pkt:1:31: expected TCP option (`nop`, `eol`, `mss N`, `wscale N`, `sackOK`, `sack A:B ...`, `TS val N ecr N`), found `bogus`",
        ),
        // bad times
        (
            "0.1x close(3) = 0",
            "t.pkt:1:4: expected time (e.g. `0`, `0.100`, `+0.1`, `*`), found `x`",
        ),
        (
            "+ close(3) = 0",
            "t.pkt:1:3: expected time (e.g. `0`, `0.100`, `+0.1`, `*`), found `close`",
        ),
        (
            "< S 0:0(0)",
            "t.pkt:1:1: expected time (e.g. `0`, `0.100`, `+0.1`, `*`), found `<`",
        ),
        (
            "0.0000001 close(3) = 0",
            "t.pkt:1:1: expected time with at most microsecond precision (6 decimals), found `0.0000001`",
        ),
        (
            "99999999999999 close(3) = 0",
            "t.pkt:1:1: expected time of at most 9223372036854 seconds, found `99999999999999`",
        ),
        // number overflow
        (
            "0 < . 1:1(0) ack 4294967296",
            "t.pkt:1:18: expected acknowledgment number in range 0..=4294967295, found `4294967296`",
        ),
        (
            "0 < S 0:0(0) <mss 65536>",
            "t.pkt:1:19: expected MSS in range 0..=65535, found `65536`",
        ),
        (
            "0 write(3, ..., 99999999999999999999) = 0",
            "t.pkt:1:17: expected integer in range 0..=18446744073709551615, found `99999999999999999999`",
        ),
        (
            "0 f(-9223372036854775809) = 0",
            "t.pkt:1:5: expected integer in range -9223372036854775808..=9223372036854775807, found `-9223372036854775809`",
        ),
        // unterminated comment / string / shell / python / note
        (
            "0 close(3) = 0\n/* never closed\n",
            "t.pkt:2:1: expected `*/` closing this comment, found end of input",
        ),
        (
            "0 f(\"abc) = 0\n",
            "t.pkt:1:5: expected `\"` closing this string, found end of line",
        ),
        (
            "0 `sleep 1\n",
            "t.pkt:1:3: expected closing backtick for this shell command, found end of input",
        ),
        (
            "%{ print(1)\n",
            "t.pkt:1:1: expected `}%` closing this python block, found end of input",
        ),
        (
            "0 connect(3, ..., ...) = -1 ECONNREFUSED (Connection\n",
            "t.pkt:1:42: expected `)` closing this note, found end of line",
        ),
        // call shape
        (
            "0 close(3)",
            "t.pkt:1:11: expected `=` and the expected result, found end of input",
        ),
        (
            "0 close(3) = x",
            "t.pkt:1:14: expected result (an integer or `...`), found `x`",
        ),
        (
            "0 close(3 4) = 0",
            "t.pkt:1:11: expected `,` or `)`, found `4`",
        ),
        (
            "0 close(3) = 0 0",
            "t.pkt:1:16: expected end of line, found `0`",
        ),
        // packets
        (
            "0 < . 1:1(0) ack 1 wnd 3",
            "t.pkt:1:20: expected `ack N`, `win N`, `urg N`, `port N`, `<options>` or end of line, found `wnd`",
        ),
        (
            "0 < . 1:1(0) ack 1 ack 2",
            "t.pkt:1:20: expected a single `ack`, found a second one",
        ),
        (
            "0 < . 1:1(0) <sack>",
            "t.pkt:1:19: expected SACK block `START:END`, found `>`",
        ),
        (
            "0 < . 1:1(0) <sack 1:2 3:4 5:6 7:8 9:10>",
            "t.pkt:1:36: expected at most 4 SACK blocks, found a fifth",
        ),
        (
            "0 < . 1:1(0) <TS val 1>",
            "t.pkt:1:23: expected `ecr`, found `>`",
        ),
        (
            "0 < udp 1000",
            "t.pkt:1:9: expected `(LEN)` payload length, found `1000`",
        ),
        (
            "0 < arp who-has 1.2.3 tell 1.2.3.4",
            "t.pkt:1:17: expected IPv4 address, found `1.2.3`",
        ),
        (
            "0 > arp reply 1.2.3.4 is-at 02:00:00:00:00",
            "t.pkt:1:29: expected MAC address (`02:00:00:00:00:01`, `dut_mac`, `tb_mac` or `*`), found `02:00:00:00:00`",
        ),
        (
            "0 < icmp echo_request seq 1 (56)",
            "t.pkt:1:23: expected `id`, found `seq`",
        ),
        (
            "0 f(((((",
            "t.pkt:1:5: expected argument (`...`, integer, NAME, \"string\", `[...]`, `{field=...}` or `f(...)`), found `(`",
        ),
    ];
    for (src, want) in cases {
        let got = err(src);
        assert_eq!(&got, want, "source: {src:?}");
        let e = parse("t.pkt", src).unwrap_err();
        assert!(!e.is_unsupported(), "{src:?} should be a syntax error");
    }
}

#[test]
fn nesting_limit() {
    let deep = format!("0 f({}1{}) = 0", "[".repeat(40), "]".repeat(40));
    let e = err(&deep);
    assert_eq!(
        e,
        "t.pkt:1:37: expected expressions nested at most 32 deep, found deeper nesting"
    );
    let fine = format!("0 f({}1{}) = 0", "[".repeat(31), "]".repeat(31));
    ok(&fine);
}

#[test]
fn unsupported_constructs() {
    let cases: &[(&str, &str)] = &[
        (
            "0 < (tos 0x2) S 0:0(0) win 1",
            "t.pkt:1:5: unsupported: IP-level prefix `(...)` such as `(tos 0x..)` or `(flowlabel ..)`",
        ),
        (
            "0 < [ip 4] S 0:0(0) win 1",
            "t.pkt:1:5: unsupported: IP-level prefix `[...]` (only `[ect0]`, `[ect1]`, `[ce]`, `[noecn]`, `[ect01]` are supported)",
        ),
        (
            "0 < S 0:0(0) win 1 <mss 1460,FO 0102030405060708>",
            "t.pkt:1:30: unsupported: TCP option `FO` (TCP Fast Open)",
        ),
        (
            "0 < S 0:0(0) win 1 <exp 0xF989>",
            "t.pkt:1:21: unsupported: TCP option `exp` (experimental option)",
        ),
        ("0 < sctp", "t.pkt:1:5: unsupported: `sctp` packets"),
        (
            "0 < icmp timestamp_request",
            "t.pkt:1:10: unsupported: ICMP type `timestamp_request`",
        ),
        (
            "0 < [ce] arp who-has 1.2.3.4 tell 1.2.3.5",
            "t.pkt:1:10: unsupported: ECN prefix on an ARP packet",
        ),
    ];
    for (src, want) in cases {
        let e = parse("t.pkt", src).unwrap_err();
        assert_eq!(&e.to_string(), want, "source: {src:?}");
        assert!(e.is_unsupported(), "{src:?}");
    }
}

#[test]
fn display_round_trips() {
    for src in [PASSIVE_OPEN, ACTIVE_OPEN_REFUSED, RETRANSMIT_SACK] {
        let s = ok(src);
        let printed: String = s.events.iter().map(|e| format!("{e}\n")).collect();
        let again = ok(&printed);
        let kinds = |s: &Script| {
            s.events
                .iter()
                .map(|e| (e.time, e.kind.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&s), kinds(&again), "printed:\n{printed}");
    }
}

#[test]
fn parse_file_errors() {
    let e = parse_file(std::path::Path::new("/nonexistent/x.pkt")).unwrap_err();
    assert!(matches!(e, ParseError::Io { .. }));
    assert!(e
        .to_string()
        .starts_with("/nonexistent/x.pkt: cannot read script: "));
    assert_eq!(e.position(), None);
}

#[test]
fn odd_inputs_do_not_panic() {
    for src in [
        "",
        "\n\n",
        "é",
        "0 < é",
        "0 \u{feff}",
        "+",
        "*",
        "0...",
        "0~",
        "--",
        "--=",
        "0 < [",
        "0 < [1:",
        "0 < S 1:2(",
        "0 f(\"\\",
        "0 f(-",
        "0 f(0x",
        "0 f(0xg",
        "%{",
        "`",
        "/*",
        "0 > arp reply 1.2.3.4 is-at 0:0:0:0:0:0:0",
        "0 < icmp unreachable [",
        "\r\n0 close(3) = 0\r\n",
    ] {
        let _ = parse("t.pkt", src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC*") {
        let _ = parse("fuzz.pkt", &s);
    }

    #[test]
    fn script_alphabet_never_panics(s in "[0-9+.*~<>SFRP.EWU:()\\[\\]{}<>,=|\"`%/ \n\t-a-z_]{0,200}") {
        let _ = parse("fuzz.pkt", &s);
    }

    #[test]
    fn mutated_scripts_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..8),
    ) {
        let base = [PASSIVE_OPEN, ACTIVE_OPEN_REFUSED, RETRANSMIT_SACK][which];
        let mut chars: Vec<char> = base.chars().collect();
        for (idx, op, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = idx.index(chars.len());
            match op {
                0 => chars[i] = c,
                1 => { chars.remove(i); }
                _ => chars.insert(i, c),
            }
        }
        let s: String = chars.into_iter().collect();
        let r = parse("fuzz.pkt", &s);
        if let Err(e) = r {
            // Errors always carry a position inside the input.
            let (line, col) = e.position().expect("syntax errors have a position");
            prop_assert!(line >= 1 && col >= 1);
            prop_assert!(line <= s.split('\n').count());
        }
    }
}

fn mods(ev: &Event) -> PacketMods {
    match &ev.kind {
        EventKind::Packet(p) => p.mods,
        k => panic!("not a packet: {k:?}"),
    }
}

#[test]
fn link_and_ip_modifiers() {
    let s = ok(
        "0 < icmp echo_request id 1 seq 2 (56) to ff:ff:ff:ff:ff:ff dst 255.255.255.255\n\
                0 < udp (20) csum 0 ttl 0 ip_id 7 frag 8:16 mf\n\
                0 < S 0:0(0) win 100 <mss 1460> src 198.51.100.7 ip_csum bad pad 60\n\
                0 < icmp echo_request id 1 seq 2 (56) ip_version 6 ip_ihl 4 ip_len 200 csum bad\n\
                0 > udp (20) dst 198.51.100.255 to ff:ff:ff:ff:ff:ff\n",
    );
    let m = mods(&s.events[0]);
    assert_eq!(m.eth_dst, Some(MacSpec::Literal([0xff; 6])));
    assert_eq!(m.dst, Some(Ipv4Addr::BROADCAST));
    let m = mods(&s.events[1]);
    assert_eq!(m.csum, Some(CsumSpec::Zero));
    assert_eq!((m.ttl, m.ip_id), (Some(0), Some(7)));
    assert_eq!(
        m.frag,
        Some(FragSpec {
            offset: 8,
            end: 16,
            more: true
        })
    );
    let m = mods(&s.events[2]);
    assert_eq!(m.src, Some(Ipv4Addr::new(198, 51, 100, 7)));
    assert_eq!((m.ip_csum, m.pad), (Some(CsumSpec::Bad), Some(60)));
    assert_eq!(tcp(&s.events[2]).win, Some(100));
    let m = mods(&s.events[3]);
    assert_eq!(
        (m.ip_version, m.ip_ihl, m.ip_len),
        (Some(6), Some(4), Some(200))
    );
    assert_eq!(
        s.events[1].kind.to_string(),
        "< udp (20) ttl 0 ip_id 7 csum 0 frag 8:16 mf"
    );
    assert!(mods(&s.events[4]).eth_dst.is_some());
}

#[test]
fn bad_modifiers_are_errors() {
    assert!(err("0 < udp (20) csum maybe\n").contains("`bad` or `0`"));
    assert!(err("0 < udp (20) frag 3:16\n").contains("multiple of 8"));
    assert!(err("0 < udp (20) ttl 1 ttl 2\n").contains("a single `ttl`"));
    assert!(err("0 < udp (20) ip_version 16\n").contains("4-bit"));
    assert!(err("0 < udp (20) bogus 1\n").contains("`to MAC`"));
}

#[test]
fn no_flags_is_a_dash() {
    let s = parse("t.pkt", "0 < - 1:1001(1000) win 20000\n").unwrap();
    let EventKind::Packet(p) = &s.events[0].kind else {
        panic!("not a packet");
    };
    let PacketSpec::Tcp(t) = &p.packet else {
        panic!("not TCP");
    };
    assert_eq!((t.flags, t.len, t.win), (0, 1000, Some(20000)));
    assert_eq!(t.to_string(), "- 1:1001(1000) win 20000");
    // `-` is no flag letter inside a word.
    assert!(parse("t.pkt", "0 < S- 0:0(0)\n").is_err());
}

#[test]
fn counted_and_positional_struct_members() {
    let s = parse(
        "t.pkt",
        "0 sendmsg(4, {msg_name(...)=...,\n  msg_iov(2)=[{..., 100}, {iov_base=..., iov_len=5}], msg_flags=0}, 0) = 105\n",
    )
    .unwrap();
    let EventKind::Call(c) = &s.events[0].kind else {
        panic!("not a call");
    };
    assert_eq!(
        c.args[1].to_string(),
        "{msg_name=..., msg_iov=[{..., 100}, {iov_base=..., iov_len=5}], msg_flags=0}"
    );
    // The count must be the array's length.
    let e = parse("t.pkt", "0 sendmsg(4, {msg_iov(3)=[{..., 1}]}, 0) = 1\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.pkt:1:23: expected a count equal to the array's length (1), found 3"
    );
}
