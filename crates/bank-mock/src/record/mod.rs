//! `rehearse mock-bank record`: a recording proxy in front of a real bank (or any bank
//! mock). It forwards every request unchanged, folds each exchange into a
//! [`rehearse_contract::Recording`], and on `POST /__record/save`, Ctrl-C or SIGTERM writes
//! the version folder that recording makes (`--out DIR/vN`), which `--versions` serves as is.

mod args;
mod proxy;
mod save;

pub use args::{MockBankCommand, RecordArgs};
pub use proxy::{RecordFailure, RecordFailureKind, record_until};
