//! A run's record: every frame in and out and every call with its result, in
//! order, with times and the script line that caused or expected it.

use crate::target::Micros;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Testbench → DUT (a `<` line).
    In,
    /// DUT → testbench (a `>` line, or a frame no line expected).
    Out,
}

impl Dir {
    /// The script's arrow for this direction.
    pub fn arrow(self) -> char {
        match self {
            Dir::In => '<',
            Dir::Out => '>',
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceKind {
    /// A whole Ethernet frame.
    Frame {
        /// Direction.
        dir: Dir,
        /// The frame's bytes as captured or injected.
        bytes: Vec<u8>,
    },
    /// A socket call and what it returned (`= 0`, `= -1 ECONNREFUSED`).
    Call {
        /// The call as the script wrote it.
        text: String,
        /// The result as packetdrill prints it.
        result: String,
    },
}

/// One trace entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// When, relative to the script start.
    pub at: Micros,
    /// The script line this event matched or was caused by; `None` for a frame
    /// the script did not expect.
    pub line: Option<usize>,
    /// What happened.
    pub kind: TraceKind,
    /// How much later than the script's start the script clock had been
    /// moved when this happened (see [`crate::target::Target::rebase`]):
    /// `at + shift` is the real time elapsed since the start, which a DUT's
    /// TS clock follows.
    pub shift: Micros,
}

/// The trace of one script on one DUT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Events in order.
    pub events: Vec<TraceEvent>,
    /// The script clock's shift so far (recorded in each event pushed).
    pub shift: Micros,
}

impl Trace {
    /// Appends an event.
    pub fn push(&mut self, at: Micros, line: Option<usize>, kind: TraceKind) {
        self.events.push(TraceEvent {
            at,
            line,
            kind,
            shift: self.shift,
        });
    }
}
