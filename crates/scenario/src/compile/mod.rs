//! Loading and checking: files → nodes → model → [`Scenario`](crate::Scenario)s, with every
//! problem found before the first request. One file per construct: a newcomer finds
//! `poll` or `capture` by file name.

mod capture;
mod check;
mod compiler;
mod cron;
mod discover;
mod environment;
mod expect;
mod fixture;
mod heading;
mod include;
mod known;
mod owners;
mod poll;
mod request;
mod source;
mod templates;

pub use compiler::Compiler;
pub use cron::parse_cron;
pub use discover::discover;
pub use environment::load_environment;
pub use heading::{Heading, read_heading};
pub use owners::{OWNERS_FILE, load_owners, unknown_owner};
pub use source::read_source;
