//! Masking secret values in everything the runner emits, and in the logs.
//!
//! `redactor.rs` is the [`Redactor`]: the secret values, and the tokens learnt during a
//! run, in every form they take (`forms.rs`: escapes, encodings, nested); `json.rs` masks
//! JSON whose strings hold a secret only once decoded; `log.rs` is the one redactor of the
//! process's logs, which learns every value any redactor learns.

mod forms;
mod json;
mod log;
mod redactor;

pub use log::mask_log;
pub use redactor::{MASK, MIN_SECRET_LEN, Redactor};
