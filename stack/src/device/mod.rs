//! Devices: adapters between a [`Host`](crate::Host) and a medium. These are
//! outside the sans-IO core.
//!
//! * [`Link`]: an in-memory link between two endpoints for simulation, with
//!   seeded loss / duplication / reordering / delay (default: perfect).
//! * `pnet` (feature `pnet`): an AF_PACKET device and a real-time driver loop.

mod link;
#[cfg(feature = "pnet")]
pub mod pnet;

pub use link::{End, Link, LinkConfig};
