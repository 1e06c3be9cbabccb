//! `rehearse contract …`: bank API version folders.

mod import;

pub(crate) use import::ImportArgs;

use crate::args::ContractCommand;

pub(crate) fn dispatch(command: ContractCommand) -> u8 {
    match command {
        ContractCommand::Import(args) => import::run(&args),
    }
}
