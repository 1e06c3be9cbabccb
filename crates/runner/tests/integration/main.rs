//! Integration tests of the runner: real HTTP over loopback against wiremock (or a raw
//! TCP listener), scenarios written as YAML and compiled the way the CLI does.
//!
//! One test binary with modules, so the suite links once.

mod common;

mod capture;
mod cleanup;
mod headers;
mod ledger;
mod panic;
mod poll;
mod resume;
mod secrets;
mod shard;
mod timeout;
