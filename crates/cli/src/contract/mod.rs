//! `rehearse contract …`: the bank API's versions against the real bank (`check`) and
//! against each other (`diff`). One file per subcommand.

pub(crate) mod check;
mod classify;
pub(crate) mod diff;
mod probe;

use crate::args::{Cli, ContractCommand};

/// Runs one `contract` subcommand.
pub(crate) async fn dispatch(cli: &Cli, command: &ContractCommand) -> u8 {
    match command {
        ContractCommand::Check(args) => check::check(args, cli.color, cli.quiet, cli.verbose).await,
        ContractCommand::Diff(args) => diff::diff(args),
    }
}
