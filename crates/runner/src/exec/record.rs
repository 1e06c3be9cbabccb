//! What leaves a scenario's run: request and response records and failures, masked, and
//! whether a request carried a secret (which makes what its response gives a token).

use super::*;

/// Attempts of a poll kept whole at its end; the first is always kept whole too.
const WHOLE_AT_END: usize = 3;

/// A long poll keeps the first attempt and the last [`WHOLE_AT_END`] whole; the ones
/// between keep their number, timing, status, error and failures, but not their headers
/// and bodies. Each whole attempt is about a kilobyte and a poll may make hundreds: a
/// 5,000-scenario run would hold them all (issue #10). Each `AttemptFinished` event still
/// carries its attempt whole, as it happens.
pub(super) fn thin_kept_attempts(attempts: &mut [Attempt]) {
    let Some(i) = attempts.len().checked_sub(WHOLE_AT_END + 1) else {
        return;
    };
    if i == 0 {
        return;
    }
    let a = &mut attempts[i];
    a.request.headers = Vec::new();
    if a.request.body.is_some() {
        a.request.body = Some(NOT_KEPT.to_owned());
    }
    if let Some(r) = &mut a.response {
        r.headers = Vec::new();
        r.body = NOT_KEPT.to_owned();
    }
}

/// What a thinned attempt shows instead of a body.
pub(crate) const NOT_KEPT: &str =
    "(not kept: a poll keeps the bodies and headers of its first and last 3 attempts)";

impl ScenarioRun<'_> {
    pub(super) fn mask_failure(&self, mut f: Failure) -> Failure {
        f.expected = self.redactor.mask(&f.expected);
        f.actual = self.redactor.mask(&f.actual);
        f.source_line = f.source_line.map(|l| self.redactor.mask(&l));
        f
    }

    pub(super) fn record_request(&self, p: &Prepared, cookie: Option<&str>) -> RequestRecord {
        let mut headers: Vec<(String, String)> = p
            .headers
            .iter()
            .filter(|(k, _)| cookie.is_none() || !k.eq_ignore_ascii_case("cookie"))
            .map(|(k, v)| (k.clone(), self.redactor.mask(v)))
            .collect();
        if let Some(c) = cookie {
            headers.push(("cookie".to_owned(), self.redactor.mask(c)));
        }
        // Kept to the run's end (a filtered collect leaves room for four).
        headers.shrink_to_fit();
        let content_type = p
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        RequestRecord {
            method: p.method.to_string(),
            url: self.redactor.mask(&p.url),
            headers,
            body: p.body.as_ref().map(|b| {
                // Mask before cutting (a secret cut in two would show its first half); only
                // the head of a large body is looked at, not all of it.
                let shown = b.shown(content_type);
                let cut = head(&shown, BODY_EXCERPT * 4 + 256);
                let mut text = rehearse_scenario::excerpt(&self.redactor.mask(cut), BODY_EXCERPT);
                if cut.len() < shown.len() && !text.ends_with('…') {
                    text.push('…');
                }
                // A report pretty-prints a JSON body: decoded, it must hold no secret.
                self.redactor.mask_json(text)
            }),
        }
    }

    /// True when the request carries a secret (in its URL, a header or its body) or
    /// credentials made by `auth`.
    pub(super) fn carries_secret(&self, p: &Prepared) -> bool {
        !p.credentials.is_empty()
            || (!self.redactor.is_empty()
                && (self.redactor.contains_secret(&p.url)
                    || p.headers
                        .iter()
                        .any(|(_, v)| self.redactor.contains_secret(v))
                    || p.body
                        .as_ref()
                        .and_then(|b| b.text())
                        .is_some_and(|t| self.redactor.contains_secret(&t))))
    }

    /// The parts of the request that are not secret, secrets masked: the URL, the header
    /// values and the body's text (its first MiB). A value a response merely echoes from here (the user
    /// name of Basic auth, a path segment) is not a token.
    pub(super) fn public_text(&self, p: &Prepared) -> String {
        let mut out = self.redactor.mask(&p.url);
        for (k, v) in &p.headers {
            out.push('\n');
            out.push_str(k);
            out.push_str(": ");
            out.push_str(&self.redactor.mask(v));
        }
        if let Some(t) = p.body.as_ref().and_then(|b| b.text()) {
            out.push('\n');
            out.push_str(&self.redactor.mask(head(&t, PUBLIC_BODY)));
        }
        out
    }

    pub(super) fn record_response(&self, r: &Response) -> ResponseRecord {
        let body = if r.is_binary() {
            r.binary_summary()
        } else {
            // Mask before truncating, so that a secret across the cut is masked whole:
            // the window is the excerpt and a margin longer than any secret in practice,
            // so a large body is never copied whole.
            let window = prefix(r.text(), BODY_EXCERPT + MASK_MARGIN);
            let text = rehearse_scenario::excerpt(&self.redactor.mask(window), BODY_EXCERPT);
            // A report decodes and pretty-prints a JSON body: `p\u00e4ss` is shown `päss`.
            self.redactor.mask_json(text)
        };
        ResponseRecord {
            status: r.status,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), self.redactor.mask(v)))
                .collect(),
            body,
        }
    }
}

/// Characters past the excerpt that are masked with it (see `record_response`).
const MASK_MARGIN: usize = 4096;

/// The first `chars` characters of `text`.
fn prefix(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(i, _)| &text[..i])
}

/// Whether a captured value is masked from now on: as the capture says (`secret:`), else
/// when the request carried a secret, unless the value appears as it is in the request's
/// non-secret parts (a response echoing the user name `alice` or a path segment does not
/// make them tokens).
pub(super) fn is_token(
    declared: Option<bool>,
    carries_secret: bool,
    value: &str,
    public: &str,
) -> bool {
    declared.unwrap_or_else(|| carries_secret && !public.contains(value))
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
