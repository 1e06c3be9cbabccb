//! Cookies: the jar of a scenario (RFC 6265's storage model, by `cookie_store`), the
//! `Cookie` header a request sends, and the `Set-Cookie` of a response as `expect` and
//! `capture` read it.

use cookie_store::CookieStore;
use rehearse_scenario::CookieAttr;
use serde_json::Value as Json;

/// The cookies of one scenario: stored from every `Set-Cookie` (redirects included),
/// sent to the requests whose domain and path they match, removed by `Max-Age=0` or an
/// `Expires` in the past.
#[derive(Debug, Default)]
pub(crate) struct Jar {
    store: CookieStore,
}

impl Jar {
    /// Stores the cookies a response to `url` sets; invalid ones (a `Domain` the host is
    /// not in, say) are ignored, as a browser does.
    pub(crate) fn store<'a>(
        &mut self,
        set_cookies: impl IntoIterator<Item = &'a str>,
        url: &reqwest::Url,
    ) {
        for line in set_cookies {
            let _ = self.store.parse(line, url);
        }
    }

    /// The `name=value` pairs to send to `url`.
    pub(crate) fn for_url(&self, url: &reqwest::Url) -> Vec<(String, String)> {
        self.store
            .get_request_values(url)
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }
}

/// The `Cookie` header of one request: what the request's own `Cookie` header says, then
/// `request.cookies`, then the jar's cookies for the URL (less those the request names).
pub(crate) fn cookie_header(
    own: Option<&str>,
    request: &[(String, String)],
    jar: &[(String, String)],
) -> Option<String> {
    let mut parts: Vec<String> = own
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .into_iter()
        .collect();
    parts.extend(request.iter().map(|(n, v)| format!("{n}={v}")));
    parts.extend(
        jar.iter()
            .filter(|(n, _)| !request.iter().any(|(r, _)| r == n))
            .map(|(n, v)| format!("{n}={v}")),
    );
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// One `Set-Cookie` line, as sent: its name, value and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetCookie {
    pub(crate) name: String,
    pub(crate) value: String,
    path: Option<String>,
    domain: Option<String>,
    expires: Option<String>,
    max_age: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<String>,
}

impl SetCookie {
    /// Parses a `Set-Cookie` value (RFC 6265 §5.2): `None` without a `name=`.
    pub(crate) fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let mut c = Self {
            name: name.to_owned(),
            value: value.trim().to_owned(),
            path: None,
            domain: None,
            expires: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: None,
        };
        for attr in parts {
            let (key, val) = match attr.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().to_owned())),
                None => (attr.trim(), None),
            };
            match key.to_ascii_lowercase().as_str() {
                "path" => c.path = val,
                "domain" => c.domain = val,
                "expires" => c.expires = val,
                "max-age" => c.max_age = val,
                "secure" => c.secure = true,
                "httponly" => c.http_only = true,
                "samesite" => c.same_site = val,
                _ => {}
            }
        }
        Some(c)
    }

    /// A part as `expect` and `capture` see it: text as sent, `Max-Age` a number, the
    /// flags true or false; `None` for an attribute the line does not have.
    pub(crate) fn get(&self, attr: CookieAttr) -> Option<Json> {
        let text = |v: &Option<String>| v.clone().map(Json::String);
        match attr {
            CookieAttr::Value => Some(Json::String(self.value.clone())),
            CookieAttr::Path => text(&self.path),
            CookieAttr::Domain => text(&self.domain),
            CookieAttr::Expires => text(&self.expires),
            CookieAttr::MaxAge => self.max_age.as_ref().map(|v| {
                v.parse::<i64>()
                    .map_or_else(|_| Json::String(v.clone()), Json::from)
            }),
            CookieAttr::Secure => Some(Json::Bool(self.secure)),
            CookieAttr::HttpOnly => Some(Json::Bool(self.http_only)),
            CookieAttr::SameSite => text(&self.same_site),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn parses_value_and_attributes_as_sent() {
        let c = SetCookie::parse(
            "session=abc=1; Path=/app; Domain=example.com; Max-Age=60; Secure; HttpOnly; SameSite=Lax; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        )
        .unwrap();
        assert_eq!(c.name, "session");
        assert_eq!(c.get(CookieAttr::Value), Some(Json::from("abc=1")));
        assert_eq!(c.get(CookieAttr::Path), Some(Json::from("/app")));
        assert_eq!(c.get(CookieAttr::MaxAge), Some(Json::from(60)));
        assert_eq!(c.get(CookieAttr::Secure), Some(Json::Bool(true)));
        assert_eq!(c.get(CookieAttr::HttpOnly), Some(Json::Bool(true)));
        assert_eq!(c.get(CookieAttr::SameSite), Some(Json::from("Lax")));
        assert_eq!(
            c.get(CookieAttr::Expires),
            Some(Json::from("Wed, 21 Oct 2037 07:28:00 GMT"))
        );
        let bare = SetCookie::parse("a=1").unwrap();
        assert_eq!(bare.get(CookieAttr::Path), None);
        assert_eq!(bare.get(CookieAttr::Secure), Some(Json::Bool(false)));
        assert_eq!(SetCookie::parse("novalue"), None);
    }

    #[test]
    fn the_jar_matches_path_and_host_and_forgets_on_max_age_0() {
        let mut jar = Jar::default();
        let at = url("http://127.0.0.1:9/app/login");
        jar.store(["a=1; Path=/app", "b=2"], &at);
        assert_eq!(jar.for_url(&url("http://127.0.0.1:9/app/x")).len(), 2);
        // `b` has the default path `/app` (the folder of /app/login).
        assert!(jar.for_url(&url("http://127.0.0.1:9/other")).is_empty());
        assert!(jar.for_url(&url("http://localhost:9/app/x")).is_empty());
        jar.store(["a=gone; Path=/app; Max-Age=0"], &at);
        assert_eq!(
            jar.for_url(&url("http://127.0.0.1:9/app/x")),
            vec![("b".to_owned(), "2".to_owned())]
        );
        jar.store(["b=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"], &at);
        assert!(jar.for_url(&url("http://127.0.0.1:9/app/x")).is_empty());
    }

    #[test]
    fn a_domain_cookie_goes_to_subdomains_and_a_foreign_domain_is_refused() {
        let mut jar = Jar::default();
        jar.store(
            [
                "wide=1; Domain=example.com; Path=/",
                "foreign=1; Domain=example.org",
            ],
            &url("http://a.example.com/"),
        );
        assert_eq!(
            jar.for_url(&url("http://b.example.com/x")),
            vec![("wide".to_owned(), "1".to_owned())]
        );
        assert_eq!(jar.for_url(&url("http://example.com/")).len(), 1);
        assert!(jar.for_url(&url("http://example.org/")).is_empty());
        jar.store(["s=1; Secure; Path=/"], &url("https://a.example.com/"));
        assert!(
            !jar.for_url(&url("http://a.example.com/"))
                .iter()
                .any(|(n, _)| n == "s"),
            "a Secure cookie is not sent over http"
        );
    }

    #[test]
    fn the_cookie_header_puts_the_requests_own_first() {
        let jar = vec![
            ("a".to_owned(), "jar".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ];
        let req = vec![("a".to_owned(), "mine".to_owned())];
        assert_eq!(
            cookie_header(Some("x=0"), &req, &jar).as_deref(),
            Some("x=0; a=mine; b=2")
        );
        assert_eq!(cookie_header(None, &[], &[]), None);
    }
}
