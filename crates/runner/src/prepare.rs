//! Turning a compiled request and the scenario's variables into the bytes to send.

use rehearse_scenario::{Body, Request, Templates, Vars};

pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

pub(crate) fn prepare(
    t: &Templates,
    req: &Request,
    vars: &Vars,
) -> Result<Prepared, rehearse_scenario::RenderError> {
    let mut url = t.render_string(&req.url, vars)?;
    if !req.query.is_empty() {
        let pairs: Vec<(String, String)> = req
            .query
            .iter()
            .map(|(k, v)| Ok((k.clone(), t.render_string(v, vars)?)))
            .collect::<Result<_, rehearse_scenario::RenderError>>()?;
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&qs);
    }
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), t.render_string(v, vars)?)))
        .collect::<Result<_, rehearse_scenario::RenderError>>()?;
    let has =
        |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let body = match &req.body {
        Body::None => None,
        Body::Json(v) => {
            let json = t.render_value(v, vars)?;
            if !has(&headers, "content-type") {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
            }
            Some(serde_json::to_vec(&json).unwrap_or_default())
        }
        Body::Text(tpl) => Some(t.render_string(tpl, vars)?.into_bytes()),
        Body::Form(fields) => {
            let pairs: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), t.render_string(v, vars)?)))
                .collect::<Result<_, rehearse_scenario::RenderError>>()?;
            if !has(&headers, "content-type") {
                headers.push((
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                ));
            }
            Some(
                serde_urlencoded::to_string(&pairs)
                    .unwrap_or_default()
                    .into_bytes(),
            )
        }
    };
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    Ok(Prepared {
        method,
        url,
        headers,
        body,
    })
}
