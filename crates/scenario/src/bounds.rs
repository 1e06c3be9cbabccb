//! Bounds on what a scenario may ask of the loader, checked before the work they bound:
//! how deep fragments include fragments and how many steps they expand to, and how large a
//! template expression or a JSONPath may be before its parser sees it (both parsers
//! recurse, and a crafted input overflowed the stack). docs/FORMAT.md, "Limits", lists
//! every bound.

/// Fragments including fragments, at most this deep (the scenario is level 0).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// Steps in one scenario once its fragments are expanded (a fragment that includes the
/// next twice, 22 times over, made 4 million steps and 3 GB).
pub const MAX_STEPS: usize = 100_000;

/// Problems shown for one scenario file; the rest are counted.
pub const MAX_PROBLEMS_PER_FILE: usize = 100;

/// Operators and calls in one `{{ … }}` or `{% … %}` tag: a chain of 50,000 `+` made an
/// expression tree too deep to compile and drop.
pub const MAX_TEMPLATE_TERMS: usize = 200;

/// Characters in one line of a template: minijinja counts columns in 16 bits (a syntax
/// error past column 65,535 overflowed it).
pub const MAX_TEMPLATE_LINE: usize = 65_535;

/// Brackets and parentheses open at once in a tag or a JSONPath.
pub const MAX_TEMPLATE_NESTING: usize = 32;

/// Bytes in one JSONPath.
pub const MAX_JSONPATH_BYTES: usize = 4096;

/// Brackets and parentheses open at once in a JSONPath: serde_json_path's parser tries
/// nested filters (`[?@[?@[?…]]]`) both ways, doubling its time at every level.
pub const MAX_JSONPATH_NESTING: usize = 8;

/// Why a template or a JSONPath is refused before parsing: a lowercase fragment.
pub(crate) type TooLarge = String;

/// Checks every tag of a template against [`MAX_TEMPLATE_TERMS`] and
/// [`MAX_TEMPLATE_NESTING`]; the text between tags is free.
pub(crate) fn check_template(text: &str) -> Result<(), TooLarge> {
    if text.len() > MAX_TEMPLATE_LINE
        && text
            .split('\n')
            .any(|l| l.len() > MAX_TEMPLATE_LINE && l.chars().count() > MAX_TEMPLATE_LINE)
    {
        return Err(format!(
            "a line of a template is at most {MAX_TEMPLATE_LINE} characters; break it, or put the text in a fixture file"
        ));
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(open) = find_tag(bytes, i) {
        let (terms, nesting, end) = scan(bytes, open + 2, true);
        if terms > MAX_TEMPLATE_TERMS {
            return Err(format!(
                "a template tag holds more than {MAX_TEMPLATE_TERMS} operators and calls; split it into several vars"
            ));
        }
        if nesting > MAX_TEMPLATE_NESTING {
            return Err(format!(
                "a template tag nests brackets more than {MAX_TEMPLATE_NESTING} deep; split it into several vars"
            ));
        }
        i = end;
    }
    Ok(())
}

/// Checks a JSONPath against [`MAX_JSONPATH_BYTES`] and [`MAX_JSONPATH_NESTING`].
pub(crate) fn check_json_path(path: &str) -> Result<(), TooLarge> {
    if path.len() > MAX_JSONPATH_BYTES {
        return Err(format!(
            "a JSONPath is at most {MAX_JSONPATH_BYTES} bytes, this one has {}",
            path.len()
        ));
    }
    let (_, nesting, _) = scan(path.as_bytes(), 0, false);
    if nesting > MAX_JSONPATH_NESTING {
        return Err(format!(
            "a JSONPath nests brackets and parentheses at most {MAX_JSONPATH_NESTING} deep"
        ));
    }
    Ok(())
}

/// Parses a JSONPath (RFC 9535) within the bounds: what validation and the runner (for a
/// templated path rendered at run time) both use.
pub fn parse_json_path(path: &str) -> Result<serde_json_path::JsonPath, String> {
    check_json_path(path)?;
    serde_json_path::JsonPath::parse(path).map_err(|e| e.to_string())
}

/// Where the next `{{` or `{%` starts, from `from`.
fn find_tag(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%'))
}

/// Scans an expression from `start`, outside string literals: the operators and calls it
/// holds, the deepest nesting of brackets, and where it ends (after `}}` or `%}` at depth
/// 0 when `in_tag`, else at the end).
fn scan(bytes: &[u8], start: usize, in_tag: bool) -> (usize, usize, usize) {
    let (mut terms, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => quote = Some(b),
            b'}' | b'%' if in_tag && depth == 0 && bytes.get(i + 1) == Some(&b'}') => {
                return (terms, deepest, i + 2);
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                terms += 1;
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'.' | b'|' | b'<' | b'>' | b'=' | b'!' => {
                terms += 1;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let word_end = (i..bytes.len())
                    .find(|&j| !bytes[j].is_ascii_alphanumeric() && bytes[j] != b'_')
                    .unwrap_or(bytes.len());
                if matches!(
                    &bytes[i..word_end],
                    b"and" | b"or" | b"not" | b"is" | b"in" | b"if" | b"else"
                ) {
                    terms += 1;
                }
                i = word_end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (terms, deepest, bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyday_templates_and_paths_are_within_bounds() {
        for t in [
            "{{ base }}/payments/{{ payment_id }}",
            "{{ secret('A') ~ ':' ~ secret('B') | b64encode }}",
            "{% for x in items %}{{ x.id }},{% endfor %}",
            "{{ {'a': {'b': [1, 2]}} | tojson }}",
            "not a tag: { } }} %} {",
        ] {
            assert_eq!(check_template(t), Ok(()), "{t}");
        }
        for p in [
            "$.status",
            "$.entries[?@.body.amount == '120.00'].headers.authorization",
            "$[?(@.a == 1 && (@.b == 2 || (@.c == 3)))]",
        ] {
            assert!(parse_json_path(p).is_ok(), "{p}");
        }
    }

    /// Regression: 50,000 terms overflowed the stack (SIGABRT) when compiled.
    #[test]
    fn a_long_chain_of_terms_is_refused_before_parsing() {
        let t = format!("{{{{ {} }}}}", vec!["a"; 50_000].join(" +\n"));
        let err = check_template(&t).expect_err("too many terms");
        assert!(err.contains("more than 200 operators"), "{err}");
        // A string literal holds no operators; text outside tags is free.
        let quoted = format!("{{{{ '{}' }}}} {}", "+".repeat(10_000), "+".repeat(10_000));
        assert_eq!(check_template(&quoted), Ok(()));
    }

    /// Regression (found by `tests/no_crash.rs`): a syntax error past column 65,535
    /// overflowed minijinja's 16-bit column (a panic in a debug build).
    #[test]
    fn a_template_line_past_column_65535_is_refused() {
        let t = format!("{{{{ b{} }}}}", "x".repeat(70_000));
        let err = check_template(&t).expect_err("too long");
        assert!(err.contains("at most 65535 characters"), "{err}");
        let ok = format!("{{{{ b }}}}{}", "x\n".repeat(70_000));
        assert_eq!(check_template(&ok), Ok(()));
    }

    #[test]
    fn deep_brackets_are_refused_in_templates_and_paths() {
        let t = format!("{{{{ {}1{} }}}}", "(".repeat(40), ")".repeat(40));
        assert!(check_template(&t).is_err());
        // Regression: each level of nested filters doubled the parse time (16 levels: 6 s).
        let p = format!("$[?{}@.a{}]", "@[?".repeat(16), "]".repeat(16));
        let err = parse_json_path(&p).expect_err("too deep");
        assert!(err.contains("at most 8 deep"), "{err}");
        // Regression: 5,000 nested `!(` overflowed the stack.
        let p = format!("$[?{}@.a{}]", "!(".repeat(5000), ")".repeat(5000));
        assert!(parse_json_path(&p).is_err());
    }
}
