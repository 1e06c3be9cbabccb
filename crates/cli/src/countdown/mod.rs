//! `rehearse countdown`: pre-flight and the demo flows at fixed offsets before a demo
//! (T-72 h … T-15 min), each owner with failures told how many of *their* working hours
//! are left, and a go/no-go call at the last offset (issue #13).
//!
//! - [`offsets`]: the offsets, which step is due at an instant, and the state file that
//!   remembers the steps done. Pure.
//! - [`readiness`]: from a step's reports and the owners, each owner's failures, clock
//!   and working hours left; the go/no-go; the lines to tell each owner. Pure.
//! - [`command`]: the flags, the child processes of one step, `--once` and the
//!   long-running loop.

mod command;
mod offsets;
mod readiness;

pub use command::CountdownArgs;
pub(crate) use command::countdown;
