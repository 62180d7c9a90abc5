//! The oracle: runs packetdrill-language scripts against the host Linux
//! kernel and this project's stack, records a trace of each, and diffs them.
pub mod diff;
pub mod duts;
pub mod fuzz;
pub mod kernel;
pub mod netns;
pub mod normalize;
pub mod pcap;
pub mod profile;
pub mod python;
pub mod report;
pub mod run;
pub mod script;
pub mod suite;
pub mod sysctl;
pub mod target;
pub mod testbench;
pub mod trace;
pub mod userns;
