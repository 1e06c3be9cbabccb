//! `prompt` approvals: the operator plays the bank's reviewer at the terminal — the
//! semi-manual mode that saved the demo.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use rehearse_runner::{ApprovalRequest, Approver};

/// Asks the operator on the terminal, one approval at a time, with a timeout.
pub(crate) struct PromptApprover {
    timeout: Duration,
    input: Arc<Mutex<Box<dyn BufRead + Send>>>,
    output: Arc<Mutex<Box<dyn Write + Send>>>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PromptApprover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptApprover")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// True when a person can answer: stdin is a terminal and `CI` is not set.
pub(crate) fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty())
}

impl PromptApprover {
    /// Reads answers from stdin and asks on stderr.
    pub(crate) fn terminal(timeout: Duration) -> Self {
        Self::new(
            timeout,
            Box::new(std::io::BufReader::new(std::io::stdin())),
            Box::new(std::io::stderr()),
        )
    }

    pub(crate) fn new(
        timeout: Duration,
        input: Box<dyn BufRead + Send>,
        output: Box<dyn Write + Send>,
    ) -> Self {
        Self {
            timeout,
            input: Arc::new(Mutex::new(input)),
            output: Arc::new(Mutex::new(output)),
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    fn say(&self, text: &str) {
        let mut out = self
            .output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

impl Approver for PromptApprover {
    fn approve<'a>(&'a self, r: &'a ApprovalRequest) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let _turn = self.one_at_a_time.lock().await;
            let mut text = String::from("\n── approval needed: you are the bank's reviewer ──\n");
            text.push_str(&format!(
                "  scenario   {}\n  step       {}\n  payment    {}\n",
                r.scenario, r.step, r.reference
            ));
            if let Some(a) = &r.amount {
                text.push_str(&format!("  amount     {a}\n"));
            }
            text.push_str(&format!(
                "  the flow expects you to {} it\n",
                r.decision.as_str()
            ));
            if let Some(n) = &r.note {
                text.push_str(&format!("  note       {n}\n"));
            }
            if let Some(i) = &r.instructions {
                text.push_str(&format!("  what to do {i}\n"));
            }
            text.push_str(&format!(
                "Type approve, reject or skip, then Enter (within {}): ",
                humantime::format_duration(self.timeout)
            ));
            self.say(&text);
            let input = Arc::clone(&self.input);
            let read = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                let mut input = input
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                input.read_line(&mut line).map(|n| (n, line))
            });
            let answer = match tokio::time::timeout(self.timeout, read).await {
                Err(_) => {
                    self.say("\n");
                    return Err(format!(
                        "no answer from the operator within {}",
                        humantime::format_duration(self.timeout)
                    ));
                }
                Ok(Err(e)) => return Err(format!("failed to read the operator's answer: {e}")),
                Ok(Ok(Err(e))) => return Err(format!("failed to read the operator's answer: {e}")),
                Ok(Ok(Ok((0, _)))) => {
                    return Err("the terminal closed before the operator answered".to_owned());
                }
                Ok(Ok(Ok((_, line)))) => line.trim().to_lowercase(),
            };
            match answer.as_str() {
                "a" | "approve" | "approved" | "y" | "yes" => {
                    Ok(format!("the operator approved {}", r.reference))
                }
                "r" | "reject" | "rejected" => Ok(format!("the operator rejected {}", r.reference)),
                "s" | "skip" => Err(format!(
                    "the operator skipped the approval of {}",
                    r.reference
                )),
                other => Err(format!(
                    "unknown answer `{other}` (expected approve, reject or skip)"
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rehearse_scenario::Decision;

    fn request() -> ApprovalRequest {
        ApprovalRequest {
            reference: "pay_1".into(),
            decision: Decision::Approve,
            note: None,
            amount: Some("25000.00 EUR".into()),
            instructions: Some("approve pay_1 in the sandbox back office".into()),
            scenario: "large payment".into(),
            step: "bank staff approves".into(),
        }
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn piped_answer_approves_and_the_operator_sees_what_to_do() {
        let out = Shared::default();
        let p = PromptApprover::new(
            Duration::from_secs(5),
            Box::new(&b"approve\n"[..]),
            Box::new(out.clone()),
        );
        assert_eq!(
            p.approve(&request()).await.unwrap(),
            "the operator approved pay_1"
        );
        let shown = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        for part in [
            "pay_1",
            "25000.00 EUR",
            "approve pay_1 in the sandbox back office",
            "approve, reject or skip",
        ] {
            assert!(shown.contains(part), "{shown}");
        }
    }

    #[tokio::test]
    async fn skip_fails_the_step() {
        let p = PromptApprover::new(
            Duration::from_secs(5),
            Box::new(&b"skip\n"[..]),
            Box::new(Shared::default()),
        );
        assert!(p.approve(&request()).await.unwrap_err().contains("skipped"));
    }

    #[tokio::test]
    async fn no_answer_times_out() {
        // A reader that never answers.
        struct Never;
        impl std::io::Read for Never {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(3));
                Ok(0)
            }
        }
        let p = PromptApprover::new(
            Duration::from_millis(200),
            Box::new(std::io::BufReader::new(Never)),
            Box::new(Shared::default()),
        );
        let err = p.approve(&request()).await.unwrap_err();
        assert!(
            err.contains("no answer from the operator within 200ms"),
            "{err}"
        );
    }
}
