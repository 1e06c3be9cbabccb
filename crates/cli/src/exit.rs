//! Exit codes of `rehearse`: a CI pipeline branches on them.

/// Every scenario passed.
pub const PASSED: u8 = 0;
/// A scenario failed (an expectation did not hold, or a step could not be carried out).
pub const FAILED: u8 = 1;
/// The environment is not ready: a pre-flight check failed, a required secret is missing,
/// or an approval needs an operator and none is there. No business step ran.
pub const NOT_READY: u8 = 2;
/// Invalid input: a scenario or environment file, or the flags.
pub const INVALID_INPUT: u8 = 3;
/// Internal error: rehearse could not do its job (IO, a bug).
pub const INTERNAL: u8 = 4;
/// Interrupted by Ctrl-C; reports are still written and cleanup ran.
pub const INTERRUPTED: u8 = 130;

/// The table shown in `--help` and the README.
pub const HELP: &str = "\
Exit codes:
  0    every scenario passed
  1    a scenario failed
  2    environment not ready (pre-flight check failed, secret missing, or an
       approval needs an operator; no business step ran)
  3    invalid input (scenario, environment or flags)
  4    internal error
  130  interrupted by Ctrl-C (cleanup ran, reports written)";
