//! `Exchange`: one request the recorder forwarded and the answer it got, as the proxy hands
//! it over. Bodies are bytes (capped by the proxy); nothing here has been masked yet.

/// One forwarded request and its answer.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// `GET`, `POST`… (upper case).
    pub method: String,
    /// The path, without the query: `/v3/transfers/trf_0a1b`.
    pub path: String,
    /// The request's headers (names in any case).
    pub request_headers: Vec<(String, String)>,
    /// The request's body.
    pub request_body: Vec<u8>,
    /// The answer's status code.
    pub status: u16,
    /// The answer's headers.
    pub response_headers: Vec<(String, String)>,
    /// The answer's body (identity-encoded: the recorder asks for no compression).
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// A request header's value (the first one), by name in any case.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// An answer header's value (the first one), by name in any case.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
