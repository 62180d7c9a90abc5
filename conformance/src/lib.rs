//! The conformance suite lives in `tests/scenarios.rs`: every script under
//! `corpus/scenarios/` runs on the simulated stack always, and on the Linux
//! kernel and the real-time stack wherever network namespaces can be made.
//! Each DUT's normalized trace is an insta snapshot (`snapshots/`), and a
//! difference between Linux and the stack fails unless `corpus/DIVERGENCES.md`
//! declares it with its reason.
//!
//! [`musts`] lists RFC 9293's numbered MUST requirements and checks which of
//! them the scenarios' header comments claim (`MUST-N`); the coverage table
//! is `docs/must-coverage.md`, kept current by the `must_coverage` test.

pub mod musts;
