//! The stateful engine behind every mounted mock: routing, auth, validation, idempotency,
//! rendering, faults and the journal. Pure request-in, reply-out; no IO.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use jsonschema::error::ValidationErrorKind;
use rehearse_status_sim::{NewPayment, Simulator, VirtualClock};
use serde_json::{Map, Value, json};
use wiremock::Request;

use crate::ApiVersion;
use crate::contract::{AmountFormat, Auth, Contract, Field, Idempotency, Operation, Route};
use crate::faults::{FaultKind, Faults};
use crate::filter::Seen;
use crate::ids::IdGen;
use crate::journal::{self, Entry, Journal};
use crate::money::parse_decimal;
use crate::template::render;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An HTTP reply, before it becomes a wiremock `ResponseTemplate`.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) delay: Option<Duration>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: serde_json::to_vec(value).unwrap_or_default(),
            delay: None,
        }
    }

    /// A JSON body already serialised.
    pub(crate) fn json_bytes(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body,
            delay: None,
        }
    }

    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Settings the engine needs.
#[derive(Debug, Clone)]
pub(crate) struct EngineConfig {
    pub(crate) api_key: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_ttl: Duration,
    pub(crate) seed: u64,
    pub(crate) journal_capacity: usize,
    pub(crate) start: DateTime<Utc>,
    pub(crate) max_payments: usize,
}

struct Idem {
    /// Hash of the canonical request body (keys sorted): small, and key order does not count.
    request: u64,
    status: u16,
    /// The first response's body, shared with the rendered payment's.
    body: Arc<[u8]>,
}

struct State {
    ids: IdGen,
    idempotency: HashMap<(ApiVersion, String), Idem>,
    idem_order: VecDeque<(ApiVersion, String)>,
    tokens: HashMap<String, DateTime<Utc>>,
    token_order: VecDeque<String>,
}

impl State {
    fn new(seed: u64) -> Self {
        Self {
            ids: IdGen::new(seed),
            idempotency: HashMap::new(),
            idem_order: VecDeque::new(),
            tokens: HashMap::new(),
            token_order: VecDeque::new(),
        }
    }
}

/// The one engine all mounted mocks share.
pub(crate) struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) contracts: Vec<Contract>,
    pub(crate) sim: Simulator,
    pub(crate) clock: Arc<VirtualClock>,
    state: Mutex<State>,
    pub(crate) faults: Mutex<Faults>,
    faults_armed: AtomicBool,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) served: AtomicU64,
    pub(crate) recycles: AtomicU64,
    /// Payments as response bodies, per version, until they change.
    pub(crate) rendered: crate::payment_view::Rendered,
    /// Status-change webhooks: subscriptions, deliveries, their journal.
    pub(crate) webhooks: Arc<crate::webhooks::Webhooks>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("versions", &self.versions())
            .finish_non_exhaustive()
    }
}

pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn ts_value(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(ts(at)))
}

fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

struct Located<'e> {
    contract: Option<&'e Contract>,
    route: Option<(&'e Route, Option<String>)>,
    allowed: Vec<&'e str>,
}

/// Base64 (standard alphabet) decoding, for HTTP Basic client authentication.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in text.trim().bytes().filter(|b| *b != b'=') {
        let v = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

impl Engine {
    pub(crate) fn new(
        config: EngineConfig,
        contracts: Vec<Contract>,
        sim: Simulator,
        clock: Arc<VirtualClock>,
        webhooks: Arc<crate::webhooks::Webhooks>,
    ) -> Self {
        Self {
            webhooks,
            state: Mutex::new(State::new(config.seed)),
            journal: Mutex::new(Journal::new(config.journal_capacity)),
            rendered: crate::payment_view::Rendered::new(config.max_payments),
            config,
            contracts,
            sim,
            clock,
            faults: Mutex::new(Faults::default()),
            faults_armed: AtomicBool::new(false),
            served: AtomicU64::new(0),
            recycles: AtomicU64::new(0),
        }
    }

    pub(crate) fn versions(&self) -> Vec<ApiVersion> {
        self.contracts.iter().map(|c| c.version).collect()
    }

    pub(crate) fn set_faults_armed(&self, faults: &Faults) {
        self.faults_armed
            .store(!faults.is_empty(), Ordering::Release);
    }

    /// Forget everything: payments, ids, keys, tokens, faults, journal; the clock goes back to
    /// its start.
    pub(crate) fn reset(&self) {
        self.sim.reset();
        *lock(&self.state) = State::new(self.config.seed);
        let mut faults = lock(&self.faults);
        faults.clear();
        self.set_faults_armed(&faults);
        drop(faults);
        lock(&self.journal).clear();
        self.webhooks.reset();
        // Ids start again from the seed: a cached body would belong to a forgotten payment.
        self.rendered.clear();
        self.clock.set(self.config.start);
    }

    fn locate(&self, method: &str, path: &str) -> Located<'_> {
        let mut located = Located {
            contract: None,
            route: None,
            allowed: Vec::new(),
        };
        for contract in &self.contracts {
            for route in &contract.routes {
                if let Some(param) = route.matches(path) {
                    located.contract = Some(contract);
                    if route.method == method {
                        located.route = Some((route, param.map(str::to_owned)));
                        return located;
                    }
                    located.allowed.push(route.method.as_str());
                }
            }
        }
        if located.contract.is_none() {
            let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
            located.contract = self
                .contracts
                .iter()
                .find(|c| c.version.to_string() == first);
        }
        located
    }

    /// Consume the webhook fault that applies to an event, if one does.
    pub(crate) fn take_webhook_fault(
        &self,
        version: ApiVersion,
        event: &Value,
    ) -> Option<crate::faults::Fault> {
        if !self.faults_armed.load(Ordering::Acquire) {
            return None;
        }
        let mut faults = lock(&self.faults);
        let fault = faults.take_webhook(version, event);
        self.set_faults_armed(&faults);
        fault
    }

    /// A connection-reset fault applies to this request: consume it and journal the request.
    pub(crate) fn take_reset(&self, req: &Request) -> bool {
        if !self.faults_armed.load(Ordering::Acquire) || is_admin(req.url.path()) {
            return false;
        }
        let method = req.method.as_str();
        let path = req.url.path();
        let version = self.locate(method, path).contract.map(|c| c.version);
        let seen = Seen::new(req, version);
        let mut faults = lock(&self.faults);
        let reset = faults.would_reset(&seen);
        if reset {
            faults.take(&seen);
        }
        self.set_faults_armed(&faults);
        drop(faults);
        if !reset {
            return false;
        }
        self.record(req, version, None, Some(FaultKind::Reset.name()));
        true
    }

    /// Answer one request (bank API or back office).
    pub(crate) fn handle(self: &Arc<Self>, req: &Request) -> Reply {
        let path = req.url.path();
        if is_admin(path) {
            return crate::admin::handle(self, req);
        }
        self.served.fetch_add(1, Ordering::Relaxed);
        let method = req.method.as_str();
        let located = self.locate(method, path);
        let version = located.contract.map(|c| c.version);
        let effect = if self.faults_armed.load(Ordering::Acquire) {
            let mut faults = lock(&self.faults);
            let effect = faults.take(&Seen::new(req, version));
            self.set_faults_armed(&faults);
            effect
        } else {
            Default::default()
        };
        let mut fault_name = None;
        let mut reply = match (&effect.action, located.contract) {
            (Some(fault), contract) if fault.kind != FaultKind::Malformed => {
                fault_name = Some(fault.kind.name());
                let status = fault.status.unwrap_or(429);
                let (code, message) = match fault.kind {
                    FaultKind::RateLimit => (
                        "rate_limited",
                        "too many requests: slow down and retry after the delay in Retry-After",
                    ),
                    _ => match status {
                        502 => ("bad_gateway", "an upstream system of the bank failed"),
                        503 => ("service_unavailable", "the bank is temporarily unavailable"),
                        504 => (
                            "gateway_timeout",
                            "an upstream system of the bank timed out",
                        ),
                        _ => ("internal_error", "the bank could not process the request"),
                    },
                };
                let reply = match contract {
                    Some(c) => self.error(c, status, code, message, Vec::new()),
                    None => Reply::json(status, &json!({"error": code, "message": message})),
                };
                match fault.retry_after {
                    Some(after) => reply.header("retry-after", after.as_secs().max(1).to_string()),
                    None => reply,
                }
            }
            _ => self.bank(&located, req),
        };
        if let Some(fault) = &effect.action
            && fault.kind == FaultKind::Malformed
        {
            fault_name = Some(fault.kind.name());
            let keep = reply.body.len() / 2;
            reply.body.truncate(keep);
            reply.content_type = "application/json";
        }
        if effect.delay.is_some() && fault_name.is_none() {
            fault_name = Some(FaultKind::Latency.name());
        }
        reply.delay = effect.delay;
        if let Some(version) = version {
            reply
                .headers
                .push(("x-bank-api-version".to_owned(), version.to_string()));
        }
        self.record(req, version, Some(reply.status), fault_name);
        reply
    }

    fn record(
        &self,
        req: &Request,
        version: Option<ApiVersion>,
        status: Option<u16>,
        fault: Option<&'static str>,
    ) {
        let entry = Entry {
            seq: 0,
            at: self.clock.now(),
            method: req.method.as_str().to_owned(),
            path: req.url.path().to_owned(),
            query: req.url.query().map(str::to_owned),
            version,
            headers: journal::masked_headers(&req.headers),
            body: journal::masked_body(header(req, "content-type"), &req.body),
            status,
            fault,
        };
        lock(&self.journal).push(entry);
    }

    fn bank(&self, located: &Located<'_>, req: &Request) -> Reply {
        let method = req.method.as_str();
        let path = req.url.path();
        let Some(contract) = located.contract else {
            let versions: Vec<String> = self.versions().iter().map(|v| format!("/{v}")).collect();
            return Reply::json(
                404,
                &json!({"error": "not_found", "message": format!(
                    "no bank API route `{method} {path}`: this mock serves {}",
                    versions.join(", ")
                )}),
            );
        };
        if let Some(reply) =
            crate::webhooks::registration(self, contract, req, || self.authenticate(contract, req))
        {
            return reply;
        }
        let Some((route, param)) = &located.route else {
            if !located.allowed.is_empty() {
                let allowed = located.allowed.join(", ");
                return self
                    .error(
                        contract,
                        405,
                        "method_not_allowed",
                        &format!("`{method} {path}` is not supported; use {allowed}"),
                        Vec::new(),
                    )
                    .header("allow", allowed);
            }
            return self.error(
                contract,
                404,
                "route_not_found",
                &format!("no {} route `{method} {path}`", contract.version),
                Vec::new(),
            );
        };
        if route.operation == Operation::IssueToken {
            return self.issue_token(contract, req);
        }
        if let Err(reply) = self.authenticate(contract, req) {
            return reply;
        }
        if let Some(missing) = route
            .required_headers
            .iter()
            .find(|h| header(req, h).is_none_or(|v| v.trim().is_empty()))
        {
            return self.error(
                contract,
                400,
                "header_missing",
                &format!(
                    "{} {} requires the {missing} header",
                    contract.version, route.path
                ),
                vec![(missing.clone(), "header is required".to_owned())],
            );
        }
        match route.operation {
            Operation::CreatePayment => self.create_payment(contract, route, req),
            Operation::GetPayment => match param.as_deref().and_then(|id| self.sim.get(id)) {
                Some(payment) => {
                    Reply::json_bytes(200, self.payment_bytes(contract, &payment).to_vec())
                }
                None => self.error(
                    contract,
                    404,
                    "not_found",
                    &format!("no payment `{}`", param.as_deref().unwrap_or_default()),
                    Vec::new(),
                ),
            },
            Operation::ListPayments => self.list_payments(contract, req),
            Operation::IssueToken => Reply::empty(500),
        }
    }

    /// The version's error body.
    pub(crate) fn error(
        &self,
        contract: &Contract,
        status: u16,
        code: &str,
        message: &str,
        fields: Vec<(String, String)>,
    ) -> Reply {
        let vars = json!({
            "status": status,
            "code": code,
            "title": reason(status),
            "message": message,
            "field_names": fields.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "fields": fields.iter().map(|(n, p)| json!({"name": n, "problem": p})).collect::<Vec<_>>(),
        });
        let body = match (contract.template("error"), vars) {
            (Some(tpl), Value::Object(vars)) => render(tpl, &vars),
            _ => json!({"error": code, "message": message}),
        };
        let mut reply = Reply::json(status, &body);
        reply.content_type = if contract.error_content_type == "application/problem+json" {
            "application/problem+json"
        } else {
            "application/json"
        };
        if status == 401 {
            reply = reply.header("www-authenticate", "Bearer realm=\"bank\"");
        }
        reply
    }

    fn oauth_error(&self, contract: &Contract, status: u16, code: &str, message: &str) -> Reply {
        let mut vars = Map::new();
        vars.insert("code".into(), code.into());
        vars.insert("message".into(), message.into());
        let body = contract
            .template("oauth_error")
            .map(|tpl| render(tpl, &vars))
            .unwrap_or_else(|| json!({"error": code, "error_description": message}));
        let reply = Reply::json(status, &body).header("cache-control", "no-store");
        if status == 401 {
            reply.header("www-authenticate", "Basic realm=\"bank\"")
        } else {
            reply
        }
    }

    fn authenticate(&self, contract: &Contract, req: &Request) -> Result<(), Reply> {
        let unauthorized =
            |message: String| Err(self.error(contract, 401, "unauthorized", &message, Vec::new()));
        let Some(value) = header(req, "authorization") else {
            return unauthorized(match contract.auth {
                Auth::ApiKey => "missing credentials: send `Authorization: Bearer <API key>`".to_owned(),
                Auth::OauthClientCredentials => {
                    "missing credentials: send `Authorization: Bearer <access token>` with a token from POST /oauth/token".to_owned()
                }
            });
        };
        let Some(credential) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
        else {
            return unauthorized(
                "malformed Authorization header: expected `Bearer <credential>`".to_owned(),
            );
        };
        match contract.auth {
            Auth::ApiKey if credential == self.config.api_key => Ok(()),
            Auth::ApiKey => unauthorized(format!("invalid API key for {}", contract.version)),
            Auth::OauthClientCredentials => {
                if credential == self.config.api_key {
                    return unauthorized(format!(
                        "{} does not accept API keys: get an access token from POST /oauth/token (client credentials)",
                        contract.version
                    ));
                }
                let expiry = lock(&self.state).tokens.get(credential).copied();
                match expiry {
                    None => unauthorized("invalid access token".to_owned()),
                    Some(expires) if expires <= self.clock.now() => unauthorized(format!(
                        "access token expired at {}: get a new one from POST /oauth/token",
                        ts(expires)
                    )),
                    Some(_) => Ok(()),
                }
            }
        }
    }

    fn issue_token(&self, contract: &Contract, req: &Request) -> Reply {
        let mut fields: HashMap<String, String> = HashMap::new();
        let is_json = header(req, "content-type").is_some_and(|c| c.contains("json"));
        if is_json {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&req.body) {
                for (k, v) in map {
                    if let Value::String(s) = v {
                        fields.insert(k, s);
                    }
                }
            }
        } else if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&req.body) {
            fields.extend(pairs);
        }
        if let Some(basic) = header(req, "authorization").and_then(|v| v.strip_prefix("Basic "))
            && let Some(decoded) = base64_decode(basic)
            && let Some((id, secret)) = String::from_utf8_lossy(&decoded).split_once(':')
        {
            fields.insert("client_id".into(), id.to_owned());
            fields.insert("client_secret".into(), secret.to_owned());
        }
        match fields.get("grant_type").map(String::as_str) {
            Some("client_credentials") => {}
            Some(other) => {
                return self.oauth_error(
                    contract,
                    400,
                    "unsupported_grant_type",
                    &format!("grant_type `{other}` is not supported; use client_credentials"),
                );
            }
            None => {
                return self.oauth_error(
                    contract,
                    400,
                    "invalid_request",
                    "missing grant_type: send grant_type=client_credentials as a form field",
                );
            }
        }
        let (Some(id), Some(secret)) = (fields.get("client_id"), fields.get("client_secret"))
        else {
            return self.oauth_error(
                contract,
                401,
                "invalid_client",
                "missing client credentials: send client_id and client_secret (form fields or HTTP Basic)",
            );
        };
        if *id != self.config.client_id || *secret != self.config.client_secret {
            return self.oauth_error(
                contract,
                401,
                "invalid_client",
                "unknown client or wrong secret",
            );
        }
        let now = self.clock.now();
        let ttl = TimeDelta::from_std(self.config.token_ttl).unwrap_or(TimeDelta::MAX);
        let mut state = lock(&self.state);
        let token = format!(
            "tok_{:016x}{:016x}",
            state.ids.next_u64(),
            state.ids.next_u64()
        );
        state
            .tokens
            .insert(token.clone(), now.checked_add_signed(ttl).unwrap_or(now));
        state.token_order.push_back(token.clone());
        while state.token_order.len() > 10_000 {
            if let Some(old) = state.token_order.pop_front() {
                state.tokens.remove(&old);
            }
        }
        drop(state);
        let mut vars = Map::new();
        vars.insert("access_token".into(), token.into());
        vars.insert("expires_in".into(), self.config.token_ttl.as_secs().into());
        let body = contract
            .template("token")
            .map(|tpl| render(tpl, &vars))
            .unwrap_or(Value::Object(vars));
        Reply::json(200, &body).header("cache-control", "no-store")
    }

    fn create_payment(&self, contract: &Contract, route: &Route, req: &Request) -> Reply {
        let key = match contract.idempotency {
            Idempotency::None => None,
            Idempotency::Required => match header(req, "idempotency-key").map(str::trim) {
                Some(key) if !key.is_empty() => Some(key.to_owned()),
                _ => {
                    return self.error(
                        contract,
                        400,
                        "idempotency_key_missing",
                        &format!(
                            "{} requires an Idempotency-Key header on POST (a unique string per payment, e.g. a UUID)",
                            contract.version
                        ),
                        Vec::new(),
                    );
                }
            },
        };
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(body) => body,
            Err(e) => {
                return self.error(
                    contract,
                    400,
                    "invalid_json",
                    &format!("the body is not valid JSON: {e}"),
                    Vec::new(),
                );
            }
        };
        if let Some(validator) = &route.request_validator {
            let fields = validation_fields(validator, &body);
            if !fields.is_empty() {
                let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                return self.error(
                    contract,
                    422,
                    "validation_failed",
                    &format!(
                        "the body does not match the {} {} schema: {}",
                        contract.version,
                        route.path,
                        names.join(", ")
                    ),
                    fields,
                );
            }
        }
        let request_hash = canonical_hash(&body);
        let mut state = lock(&self.state);
        if let Some(key) = &key
            && let Some(first) = state.idempotency.get(&(contract.version, key.clone()))
        {
            if first.request == request_hash {
                let mut reply = Reply::json(first.status, &Value::Null);
                reply.body = first.body.to_vec();
                return reply.header("idempotent-replayed", "true");
            }
            return self.error(
                contract,
                409,
                "idempotency_conflict",
                &format!("Idempotency-Key `{key}` was already used with a different body"),
                Vec::new(),
            );
        }
        let amount = pointer(&body, &contract.request.amount);
        let amount_minor = match (contract.request.amount.format, amount) {
            (Some(AmountFormat::MinorUnits), Some(Value::Number(n))) => n.as_i64(),
            (_, Some(Value::String(s))) => parse_decimal(s),
            _ => None,
        };
        let Some(amount_minor) = amount_minor else {
            let name = contract
                .request
                .amount
                .pointer
                .trim_start_matches('/')
                .replace('/', ".");
            return self.error(
                contract,
                422,
                "validation_failed",
                &format!(
                    "the body does not match the {} {} schema: {name}",
                    contract.version, route.path
                ),
                vec![(name, "not an amount the bank can book".to_owned())],
            );
        };
        let currency = pointer(&body, &contract.request.currency)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let details = json!({
            "version": contract.version,
            "creditor": pointer(&body, &contract.request.creditor).cloned().unwrap_or(Value::Null),
            "debtor": pointer(&body, &contract.request.debtor).cloned().unwrap_or(Value::Null),
            "reference": pointer(&body, &contract.request.reference).cloned().unwrap_or(Value::Null),
            "idempotency_key": key,
        });
        let id = state.ids.id(&contract.id_prefix);
        let payment = self.sim.submit(NewPayment {
            id: id.clone(),
            amount_minor,
            currency,
            details,
        });
        let rendered = self.payment_bytes(contract, &payment);
        let reply = Reply::json_bytes(201, rendered.to_vec()).header(
            "location",
            format!("{}/{id}", route.path.trim_end_matches('/')),
        );
        if let Some(key) = key {
            let entry = (contract.version, key);
            state.idempotency.insert(
                entry.clone(),
                Idem {
                    request: request_hash,
                    status: reply.status,
                    body: rendered,
                },
            );
            state.idem_order.push_back(entry);
            while state.idem_order.len() > self.config.max_payments.max(1) {
                if let Some(old) = state.idem_order.pop_front() {
                    state.idempotency.remove(&old);
                }
            }
        }
        reply
    }

    fn list_payments(&self, contract: &Contract, req: &Request) -> Reply {
        let mut limit = 20usize;
        let mut after = 0u64;
        let mut problems = Vec::new();
        for (name, value) in req.url.query_pairs() {
            match name.as_ref() {
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=100).contains(&n) => limit = n,
                    _ => problems.push((
                        "limit".to_owned(),
                        format!("`{value}` is not a whole number from 1 to 100"),
                    )),
                },
                "cursor" => match value
                    .strip_prefix("cur_")
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                {
                    Some(seq) => after = seq,
                    None => problems.push((
                        "cursor".to_owned(),
                        format!("`{value}` is not a cursor this bank issued"),
                    )),
                },
                _ => {}
            }
        }
        if !problems.is_empty() {
            return self.error(
                contract,
                422,
                "validation_failed",
                "invalid query parameters",
                problems,
            );
        }
        let mut page = self.sim.list(after, limit + 1);
        let next = if page.len() > limit {
            page.truncate(limit);
            page.last()
                .map(|p| Value::String(format!("cur_{:x}", p.seq)))
        } else {
            None
        };
        let items: Vec<Value> = page
            .iter()
            .map(|p| self.render_payment(contract, p))
            .collect();
        let mut vars = Map::new();
        vars.insert("items".into(), Value::Array(items));
        vars.insert("next_cursor".into(), next.unwrap_or(Value::Null));
        let body = contract
            .template("list")
            .map(|tpl| render(tpl, &vars))
            .unwrap_or(Value::Object(vars));
        Reply::json(200, &body)
    }
}

fn hash_into(value: &Value, hasher: &mut std::hash::DefaultHasher) {
    use std::hash::Hash;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by_key(|(k, _)| *k);
            7u8.hash(hasher);
            for (key, v) in entries {
                key.hash(hasher);
                hash_into(v, hasher);
            }
        }
        Value::Array(items) => {
            8u8.hash(hasher);
            items.len().hash(hasher);
            items.iter().for_each(|v| hash_into(v, hasher));
        }
        // Tagged, so that "1" and 1 differ; no text is built.
        Value::String(s) => (1u8, s).hash(hasher),
        Value::Number(n) => (2u8, n.as_str()).hash(hasher),
        Value::Bool(b) => (3u8, b).hash(hasher),
        Value::Null => 4u8.hash(hasher),
    }
}

/// A stable hash of a JSON body that ignores key order.
fn canonical_hash(value: &Value) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    hash_into(value, &mut hasher);
    hasher.finish()
}

pub(crate) fn is_admin(path: &str) -> bool {
    path == "/__admin" || path.starts_with("/__admin/")
}

fn pointer<'v>(body: &'v Value, field: &Field) -> Option<&'v Value> {
    body.pointer(&field.pointer)
}

fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Field names and problems, one per schema violation.
fn validation_fields(validator: &jsonschema::Validator, body: &Value) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for error in validator.iter_errors(body) {
        let base = dotted(error.instance_path().as_str());
        let join = |name: &str| {
            if base.is_empty() {
                name.to_owned()
            } else {
                format!("{base}.{name}")
            }
        };
        match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned);
                fields.push((join(&name), "is required".to_owned()));
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    fields.push((join(name), "is not a field of this API version".to_owned()));
                }
            }
            _ => {
                let name = if base.is_empty() {
                    "(body)".to_owned()
                } else {
                    base.clone()
                };
                fields.push((name, error.to_string()));
            }
        }
    }
    fields.sort();
    fields.dedup();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_hash_ignores_key_order_and_tells_types_apart() {
        let a =
            json!({"amount": "1.00", "creditor": {"name": "x", "iban": "y"}, "n": [1, true, null]});
        let b =
            json!({"creditor": {"iban": "y", "name": "x"}, "n": [1, true, null], "amount": "1.00"});
        assert_eq!(canonical_hash(&a), canonical_hash(&b));
        for other in [
            json!({"amount": 1.00, "creditor": {"name": "x", "iban": "y"}, "n": [1, true, null]}),
            json!({"amount": "1.00", "creditor": {"name": "x", "iban": "y"}, "n": ["1", true, null]}),
            json!({"amount": "1.00", "creditor": {"name": "x", "iban": "y"}, "n": [1, true]}),
            json!({"amount": "1.00", "creditor": {"name": "x"}, "n": [1, true, null]}),
        ] {
            assert_ne!(canonical_hash(&a), canonical_hash(&other), "{other}");
        }
    }
}
