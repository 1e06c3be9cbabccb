//! `Recording`: what the recorder has seen so far, folded as it comes (a schema builder per
//! route and status, a few samples, the credentials to keep out of the folder), so memory
//! stays bounded however long it runs.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::folder::VersionFolder;
use crate::infer::SchemaBuilder;
use crate::record::exchange::Exchange;
use crate::record::redact::Secrets;
use crate::record::routes::Shape;

/// The most distinct routes recorded; requests to others are counted, not recorded.
pub const MAX_ROUTES: usize = 200;
/// The largest body looked at (bigger ones are forwarded but not inferred from).
pub const MAX_OBSERVED_BODY: usize = 1024 * 1024;
/// Samples kept per route and status (to check an existing schema against, and to make
/// templates and examples from).
const SAMPLES_PER_STATUS: usize = 20;
/// All samples kept together, in bytes of JSON.
const MAX_SAMPLE_BYTES: usize = 32 * 1024 * 1024;

/// One route as observed.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub(crate) shape: Shape,
    /// The `--from` route it matched (its index), if any.
    pub(crate) from_route: Option<usize>,
    pub(crate) requests: u64,
    pub(crate) with_idempotency_key: u64,
    pub(crate) request_schema: SchemaBuilder,
    pub(crate) request_samples: Vec<Value>,
    pub(crate) responses: BTreeMap<u16, Responses>,
    /// Every string at a `status` key of its 2xx answers (at most 50), from every answer,
    /// not only the samples kept.
    pub(crate) statuses: Vec<String>,
}

/// The answers of one status on one route.
#[derive(Debug, Clone, Default)]
pub(crate) struct Responses {
    pub(crate) count: u64,
    pub(crate) schema: SchemaBuilder,
    /// Bodies that were JSON, with the request body that got each (for templates).
    pub(crate) samples: Vec<(Option<Value>, Value)>,
    pub(crate) content_type: Option<String>,
    /// Answers whose body was not JSON (or too big to look at).
    pub(crate) not_json: u64,
}

/// Everything observed, ready to be turned into a version folder
/// ([`build`](Self::build)).
#[derive(Debug, Clone)]
pub struct Recording {
    pub(crate) routes: Vec<Observed>,
    pub(crate) secrets: Secrets,
    pub(crate) exchanges: u64,
    pub(crate) not_recorded: u64,
    pub(crate) from_shapes: Vec<Shape>,
    pub(crate) from_version: Option<String>,
    sample_bytes: usize,
}

impl Recording {
    /// An empty recording; with `from`, observed paths are matched to that version's routes
    /// first (so its `{id}` parameters and route names are kept).
    pub fn new(from: Option<&VersionFolder>) -> Self {
        Self {
            routes: Vec::new(),
            secrets: Secrets::default(),
            exchanges: 0,
            not_recorded: 0,
            from_shapes: from
                .map(|f| {
                    f.manifest
                        .routes
                        .iter()
                        .map(|r| Shape::of_template(&r.method, &r.path))
                        .collect()
                })
                .unwrap_or_default(),
            from_version: from.map(|f| f.version.to_string()),
            sample_bytes: 0,
        }
    }

    /// How many exchanges were observed.
    pub fn exchanges(&self) -> u64 {
        self.exchanges
    }

    /// How many routes were seen.
    pub fn routes(&self) -> usize {
        self.routes.len()
    }

    /// Folds one exchange in. Its credentials are remembered only to be kept out of the
    /// folder.
    pub fn observe(&mut self, exchange: &Exchange) {
        self.exchanges = self.exchanges.saturating_add(1);
        self.secrets.collect(exchange);
        let method = exchange.method.to_ascii_uppercase();
        let from_route = self
            .from_shapes
            .iter()
            .position(|s| s.matches(&method, &exchange.path, self.from_version.as_deref()));
        let shape = match from_route {
            Some(i) => {
                let from = &self.from_shapes[i];
                let moved = self.from_version.as_deref().and_then(|v| {
                    from.version_in(&exchange.path, v)
                        .filter(|now| *now != v)
                        .map(|now| from.reprefixed(v, now))
                });
                moved.unwrap_or_else(|| from.clone())
            }
            None => Shape::of_path(&method, &exchange.path),
        };
        let index = match self.routes.iter().position(|r| r.shape == shape) {
            Some(i) => i,
            None if self.routes.len() < MAX_ROUTES => {
                self.routes.push(Observed {
                    shape,
                    from_route,
                    requests: 0,
                    with_idempotency_key: 0,
                    request_schema: SchemaBuilder::new(),
                    request_samples: Vec::new(),
                    responses: BTreeMap::new(),
                    statuses: Vec::new(),
                });
                self.routes.len() - 1
            }
            None => {
                self.not_recorded = self.not_recorded.saturating_add(1);
                return;
            }
        };
        let request = json_body(
            &exchange.request_body,
            exchange.request_header("content-type"),
        );
        let response = json_body(
            &exchange.response_body,
            exchange.response_header("content-type"),
        );
        let room = self.sample_bytes < MAX_SAMPLE_BYTES;
        let mut added = 0;
        let route = &mut self.routes[index];
        route.requests = route.requests.saturating_add(1);
        if exchange
            .request_header("idempotency-key")
            .is_some_and(|k| !k.trim().is_empty())
        {
            route.with_idempotency_key = route.with_idempotency_key.saturating_add(1);
        }
        if let Some(body) = &request {
            route.request_schema.observe(body);
            if room && route.request_samples.len() < SAMPLES_PER_STATUS {
                added += exchange.request_body.len();
                route.request_samples.push(body.clone());
            }
        }
        let responses = route.responses.entry(exchange.status).or_default();
        responses.count = responses.count.saturating_add(1);
        if responses.content_type.is_none() {
            responses.content_type = exchange
                .response_header("content-type")
                .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
        }
        if let Some(body) = &response
            && (200..300).contains(&exchange.status)
        {
            crate::record::facts::wire_statuses(&[body], &mut route.statuses);
        }
        match response {
            Some(body) => {
                responses.schema.observe(&body);
                if room && responses.samples.len() < SAMPLES_PER_STATUS {
                    added += exchange.response_body.len() + exchange.request_body.len();
                    responses.samples.push((request, body));
                }
            }
            None => responses.not_json = responses.not_json.saturating_add(1),
        }
        self.sample_bytes = self.sample_bytes.saturating_add(added);
    }

    /// Joins routes that are one route under two shapes: a literal segment beside an id
    /// route (`/v3/transfers/__readyz` beside `/v3/transfers/{id}`), or two literals that
    /// vary where an id would be (`/accounts/acc1`, `/accounts/acc2`).
    pub(crate) fn merge_routes(&mut self) {
        // A literal under a collection that was observed is one of its items:
        // `GET /v3/transfers/nope` beside `GET /v3/transfers`.
        let collections: Vec<Vec<crate::record::routes::Seg>> = self
            .routes
            .iter()
            .map(|r| r.shape.segments.clone())
            .collect();
        for route in &mut self.routes {
            if route.from_route.is_some() {
                continue;
            }
            let n = route.shape.segments.len();
            let under_collection = n >= 2
                && collections
                    .iter()
                    .any(|c| c.len() == n - 1 && c[..] == route.shape.segments[..n - 1]);
            if under_collection
                && let Some(crate::record::routes::Seg::Literal(last)) = route.shape.segments.last()
                && !crate::record::routes::is_version_like(last)
            {
                route.shape.segments[n - 1] = crate::record::routes::Seg::Param("id".to_owned());
            }
        }
        loop {
            let mut joined = None;
            'search: for i in 0..self.routes.len() {
                for j in 0..self.routes.len() {
                    if i == j {
                        continue;
                    }
                    // A `--from` route keeps its shape; only a new one moves into it.
                    if self.routes[j].from_route.is_some() && self.routes[i].from_route.is_none() {
                        continue;
                    }
                    let same = (self.routes[i].shape == self.routes[j].shape)
                        .then(|| self.routes[i].shape.clone());
                    if let Some(shape) =
                        same.or_else(|| self.routes[i].shape.merged_with(&self.routes[j].shape))
                    {
                        joined = Some((i, j, shape));
                        break 'search;
                    }
                }
            }
            let Some((i, j, shape)) = joined else { return };
            let from = self.routes.remove(j);
            let into = if j < i { i - 1 } else { i };
            let route = &mut self.routes[into];
            route.shape = shape;
            route.requests = route.requests.saturating_add(from.requests);
            route.with_idempotency_key = route
                .with_idempotency_key
                .saturating_add(from.with_idempotency_key);
            route.request_schema.merge(&from.request_schema);
            for s in from.statuses {
                if !route.statuses.contains(&s) && route.statuses.len() < 50 {
                    route.statuses.push(s);
                }
            }
            route.request_samples.extend(from.request_samples);
            route.request_samples.truncate(SAMPLES_PER_STATUS);
            for (status, theirs) in from.responses {
                let mine = route.responses.entry(status).or_default();
                mine.count = mine.count.saturating_add(theirs.count);
                mine.schema.merge(&theirs.schema);
                mine.not_json = mine.not_json.saturating_add(theirs.not_json);
                mine.content_type = mine.content_type.take().or(theirs.content_type);
                mine.samples.extend(theirs.samples);
                mine.samples.truncate(SAMPLES_PER_STATUS);
            }
        }
    }
}

/// The body as JSON, when it is JSON (by content type or by parsing) and small enough.
fn json_body(body: &[u8], content_type: Option<&str>) -> Option<Value> {
    if body.is_empty() || body.len() > MAX_OBSERVED_BODY {
        return None;
    }
    let says_form = content_type.is_some_and(|c| c.contains("form-urlencoded"));
    if says_form {
        return None;
    }
    serde_json::from_slice(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, status: u16) -> Exchange {
        Exchange {
            method: "GET".into(),
            path: path.into(),
            status,
            response_body: br#"{"ok": true}"#.to_vec(),
            ..Exchange::default()
        }
    }

    #[test]
    fn a_literal_under_an_observed_collection_is_one_of_its_items() {
        let mut rec = Recording::new(None);
        rec.observe(&get("/v3/transfers", 200));
        rec.observe(&get("/v3/transfers/nope", 404));
        rec.observe(&get("/v3/transfers/__readyz", 404));
        rec.observe(&get("/v3/other", 200));
        rec.merge_routes();
        let paths: Vec<String> = rec.routes.iter().map(|r| r.shape.path()).collect();
        assert_eq!(paths, ["/v3/transfers", "/v3/transfers/{id}", "/v3/other"]);
        assert_eq!(rec.routes[1].responses[&404].count, 2);
    }

    #[test]
    fn routes_and_samples_are_bounded() {
        let mut rec = Recording::new(None);
        for i in 0..(MAX_ROUTES + 50) {
            rec.observe(&get(&format!("/r{i}x/list"), 200));
        }
        assert_eq!(rec.routes(), MAX_ROUTES);
        assert_eq!(rec.exchanges(), (MAX_ROUTES + 50) as u64);
        for _ in 0..100 {
            rec.observe(&get("/r0x/list", 200));
        }
        assert_eq!(
            rec.routes[0].responses[&200].samples.len(),
            SAMPLES_PER_STATUS
        );
        assert_eq!(rec.routes[0].responses[&200].count, 101);
    }
}
