//! `rehearse contract …`: the bank API's versions against the real bank (`check`), against
//! each other (`diff`), and made from the bank's OpenAPI document (`import`). One file per
//! subcommand.

pub(crate) mod check;
mod classify;
pub(crate) mod diff;
mod import;
mod probe;

pub(crate) use import::ImportArgs;

use crate::args::{Cli, ContractCommand};

/// Runs one `contract` subcommand.
pub(crate) async fn dispatch(cli: &Cli, command: &ContractCommand) -> u8 {
    match command {
        ContractCommand::Check(args) => check::check(args, cli.color, cli.quiet, cli.verbose).await,
        ContractCommand::Diff(args) => diff::diff(args),
        ContractCommand::Import(args) => import::run(args),
    }
}
