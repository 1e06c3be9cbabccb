//! Where `tracing` output goes: stderr, each line masked first. At `-vvv` or with
//! `RUST_LOG=debug`/`trace`, rehearse's own logs and those of the HTTP stack (reqwest
//! prints every URL it answers for, hyper what it sends) would show secrets in queries and
//! tokens in paths; [`rehearse_runner::mask_log`] knows every secret and token the run has.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Makes a [`Line`] for each log event.
pub(crate) struct MaskedStderr;

/// One log event, held until it is complete, then masked and written to stderr.
pub(crate) struct Line {
    buf: Vec<u8>,
}

impl<'a> MakeWriter<'a> for MaskedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { buf: Vec::new() }
    }
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let masked = rehearse_runner::mask_log(&text);
        let _ = io::stderr().lock().write_all(masked.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_held_until_complete() {
        let mut line = MaskedStderr.make_writer();
        line.write_all(b"a ").unwrap();
        line.write_all(b"b\n").unwrap();
        assert_eq!(line.buf, b"a b\n");
        line.buf.clear();
    }
}
