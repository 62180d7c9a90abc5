//! Real clients against the stack: the `stack-echo-host` binary runs the
//! stack as a host on the DUT end of a veth pair (198.51.100.2/24), and from
//! the testbench namespace, whose kernel owns 198.51.100.1/24, Linux's own
//! `ping` (iputils) and kernel TCP and UDP sockets talk to it. Everything
//! stays inside the two anonymous namespaces the test creates.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use oracle::netns::{Side, Topology, TopologyConfig};
use oracle::userns;

const TB_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const DUT_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

fn main() {
    let privilege = userns::ensure_privileges();
    let args = Arguments::from_args();
    let available = match &privilege {
        Ok(_) => userns::namespaces_available(),
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = &available {
        eprintln!("real_clients: network namespaces unavailable, IGNORED: {why}");
    }
    let tests = vec![Trial::test(
        "ping_and_kernel_clients_against_the_stack",
        ping_and_kernel_clients,
    )
    .with_ignored_flag(available.is_err())];
    libtest_mimic::run(&args, tests).exit();
}

/// A command that runs inside the namespace `ns`.
fn in_ns(program: &str, ns: RawFd) -> Command {
    let mut c = Command::new(program);
    // SAFETY: setns is async-signal-safe; `ns` stays open in the parent
    // (and so in the forked child) until the child has exec'd.
    unsafe {
        c.pre_exec(move || {
            if libc::setns(ns, libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ping_and_kernel_clients() -> Result<(), Failed> {
    let topo = Topology::create(&TopologyConfig {
        tb_kernel_addr: Some((TB_IP, 24)),
        ..TopologyConfig::stack_dut()
    })?;
    let dut_ns = topo.ns_fd(Side::Dut).as_raw_fd();
    let tb_ns = topo.ns_fd(Side::Testbench).as_raw_fd();
    let mut child = in_ns(env!("CARGO_BIN_EXE_stack-echo-host"), dut_ns)
        .args([topo.dut_ifname(), "198.51.100.2/24", "--port", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting stack-echo-host: {e}"))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let child = Kill(child);
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| format!("reading stack-echo-host: {e}"))?;
    if line.trim() != "ready" {
        return Err(format!("stack-echo-host said {line:?}").into());
    }

    // Linux's ping (iputils): three echo requests, three replies.
    match in_ns("ping", tb_ns)
        .args([
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "2",
            "-s",
            "100",
            "198.51.100.2",
        ])
        .output()
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // scripts/test installs iputils-ping where it can (root with
            // apt); in CI its absence is a failure, not a skip.
            if std::env::var_os("CI").is_some() {
                return Err("ping (iputils) is not installed, and CI must run it".into());
            }
            eprintln!("ping (iputils) is not installed: its part is skipped (scripts/test installs it as root)")
        }
        Err(e) => return Err(format!("running ping: {e}").into()),
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            if !o.status.success() || !text.contains("3 received") {
                return Err(format!("ping failed ({}):\n{text}", o.status).into());
            }
        }
    }

    // Kernel sockets from the testbench namespace.
    topo.in_testbench(|| -> Result<(), String> {
        let to = SocketAddr::V4(SocketAddrV4::new(DUT_IP, 7));
        // TCP: a short message, then 200 kB that needs many segments and
        // window updates, echoed byte for byte.
        let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5))
            .map_err(|e| format!("TCP connect: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        for len in [11usize, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let mut w = s.try_clone().map_err(|e| e.to_string())?;
            let sent = data.clone();
            let writer = std::thread::spawn(move || w.write_all(&sent));
            let mut back = vec![0u8; len];
            s.read_exact(&mut back)
                .map_err(|e| format!("TCP echo of {len} bytes: {e}"))?;
            writer
                .join()
                .map_err(|_| "writer panicked")?
                .map_err(|e| format!("TCP write: {e}"))?;
            if back != data {
                return Err(format!("TCP echo of {len} bytes differs"));
            }
        }
        s.shutdown(std::net::Shutdown::Write)
            .map_err(|e| e.to_string())?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)
            .map_err(|e| format!("TCP close: {e}"))?;
        if !rest.is_empty() {
            return Err("data after the echo".into());
        }
        // UDP: datagrams echoed whole, from the server's address and port.
        let u = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        u.set_read_timeout(Some(Duration::from_secs(2)))
            .map_err(|e| e.to_string())?;
        for len in [1usize, 100, 1472] {
            let data = vec![len as u8; len];
            u.send_to(&data, to).map_err(|e| format!("UDP send: {e}"))?;
            let mut buf = [0u8; 2048];
            let (n, from) = u
                .recv_from(&mut buf)
                .map_err(|e| format!("UDP echo of {len} bytes: {e}"))?;
            if from != to || buf[..n] != data[..] {
                return Err(format!("UDP echo of {len} bytes: {n} bytes from {from}"));
            }
        }
        Ok(())
    })??;
    drop(child);
    Ok(())
}
