//! TCP (RFC 9293), split by concern as in Fuchsia's netstack3: sequence
//! numbers, option negotiation, buffers, RTT estimation, timers and ISNs under
//! a socket-free state machine ([`state`]); the socket layer sits on top
//! ([`crate::socket`]).

pub mod congestion;
pub mod isn;
pub mod options;
pub mod recv_buffer;
pub mod rtt;
pub mod scoreboard;
pub mod send_buffer;
pub mod seq;
pub mod state;
pub mod timer;

pub use seq::SeqNumber;
pub use state::{CaState, Segment, Tcb, TcpError, TcpInfo, TcpState};
