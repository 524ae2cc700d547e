//! The analysts' API and web UI (`docs/api/openapi.yaml`), on the UI listener (TLS by default).
//!
//! Every route but login takes the session from the `hd_session` cookie; every POST but login
//! also needs the session's CSRF token in `X-CSRF-Token`. The user's scope (every agency, or only
//! theirs) is passed *into* the index and the store, so searches, counts, aggregations, exports,
//! alerts and hosts of other agencies are never computed, not filtered afterwards; an object
//! outside the scope answers 404 like one that does not exist. Every analyst action goes to the
//! audit log.

// Handlers return `Result<_, Response>` so an early answer (401, 400...) is one `?`-like step; a
// response is large, but it is built once per request, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use haidang_detector::{Hyperscan, RuleKind};
use serde::Deserialize;
use serde_json::json;

use super::agents::AgentTable;
use crate::index::{HistogramRequest, Index, Scope, SearchRequest, TermsRequest};
pub(crate) use crate::store::HostSeen;
use crate::store::{AlertFilter, AuditEntry, Login, Role, Status, Store, Triage, User};
use crate::{Inventory, LiveRules};

/// How long one query may run.
const QUERY_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Most events one export returns.
const EXPORT_LIMIT: usize = 100_000;

/// Hosts seen, by name (saved in the store by `serve::hosts`).
pub(crate) type HostTable = Arc<Mutex<BTreeMap<String, HostSeen>>>;

/// Everything the API reads.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) index: Index,
    pub(crate) store: Store,
    pub(crate) live: Arc<LiveRules<Hyperscan>>,
    pub(crate) agents: AgentTable,
    pub(crate) hosts: HostTable,
    pub(crate) inventory: Arc<Option<Inventory>>,
    pub(crate) disabled_rules: Arc<RwLock<std::collections::HashSet<String>>>,
    pub(crate) secure_cookie: bool,
}

// The UI's files (`collector/ui/`), embedded by build.rs.
include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The router of the UI listener.
pub(crate) fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(|| async { ui_file("index.html") }))
        .route(
            "/ui/{file}",
            get(|Path(file): Path<String>| async move { ui_file(&file) }),
        )
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/search", get(search))
        .route("/api/v1/events/{id}", get(event))
        .route("/api/v1/aggregate/histogram", get(histogram))
        .route("/api/v1/aggregate/terms", get(terms))
        .route("/api/v1/export", get(export))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/{id}", get(alert))
        .route("/api/v1/alerts/{id}/{action}", post(triage))
        .route("/api/v1/rules", get(rules))
        .route("/api/v1/rules/{id}/{action}", post(rule_action))
        .route("/api/v1/hosts", get(hosts))
        .route("/api/v1/audit", get(audit))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn ui_file(name: &str) -> Response {
    match UI_FILES.iter().find(|(file, _)| *file == name) {
        Some((_, content)) => ([(header::CONTENT_TYPE, content_type(name))], *content).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such file"),
    }
}

/// An API error: `{"error": message}`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// A store error: the caller's mistakes (a bad cursor, a triage move that does not apply, an
/// unknown assignee, an empty comment) are 400 with the store's message; anything else is a 500.
fn store_error(cause: crate::store::StoreError) -> Response {
    use crate::store::StoreError;
    match cause {
        StoreError::InvalidCursor
        | StoreError::InvalidTransition { .. }
        | StoreError::InvalidInput(_)
        | StoreError::UnknownUser(_) => error(StatusCode::BAD_REQUEST, &cause.to_string()),
        other => internal(other),
    }
}

/// A server-side failure: a generic answer, the cause logged.
fn internal(cause: impl std::fmt::Display) -> Response {
    eprintln!("haidang: api: {cause}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error (see the collector's log)",
    )
}

/// The logged-in user of a request, with their session.
struct Caller {
    user: User,
    address: String,
}

impl Caller {
    fn scope(&self) -> Scope {
        self.user.scope()
    }

    fn audit(&self, state: &ApiState, action: &str, target: &str, detail: &str) {
        let entry = AuditEntry {
            time_nanos: now_nanos(),
            user: self.user.name.clone(),
            address: self.address.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.chars().take(2000).collect(),
        };
        if let Err(cause) = state.store.audit(&entry) {
            eprintln!("haidang: cannot write the audit log: {cause}");
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The caller, or the response to send instead (401, or 403 for a POST without its CSRF token).
fn caller(
    state: &ApiState,
    headers: &HeaderMap,
    address: SocketAddr,
    changes_state: bool,
) -> Result<Caller, Response> {
    let Some(token) = cookie(headers, "hd_session") else {
        return Err(error(StatusCode::UNAUTHORIZED, "not logged in"));
    };
    let (user, session) = match state.store.session(&token) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "the session has expired; log in again",
            ));
        }
        Err(cause) => return Err(internal(cause)),
    };
    if changes_state {
        let sent = headers.get("x-csrf-token").and_then(|value| value.to_str().ok());
        if sent != Some(session.csrf_token.as_str()) {
            return Err(error(StatusCode::FORBIDDEN, "missing or wrong CSRF token"));
        }
    }
    Ok(Caller {
        user,
        address: address.ip().to_string(),
    })
}

fn me_json(user: &User, csrf: &str) -> serde_json::Value {
    json!({
        "username": user.name,
        "role": role_name(user.role),
        "agencies": user.agencies,
        "csrf_token": csrf,
    })
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Analyst => "analyst",
        Role::AgencyViewer => "agency_viewer",
    }
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<LoginBody>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"username\": ..., \"password\": ...}",
        );
    };
    let ip = address.ip().to_string();
    let store = state.store.clone();
    let (name, password, client) = (body.username.clone(), body.password, ip.clone());
    let outcome = tokio::task::spawn_blocking(move || store.login(&name, &password, &client)).await;
    let audit = |action: &str, detail: &str| {
        let _ = state.store.audit(&AuditEntry {
            time_nanos: now_nanos(),
            user: body.username.clone(),
            address: ip.clone(),
            action: action.to_owned(),
            target: String::new(),
            detail: detail.to_owned(),
        });
    };
    match outcome {
        Ok(Ok(Login::Ok(session))) => {
            audit("login", "");
            let user = match state.store.session(&session.token) {
                Ok(Some((user, _))) => user,
                Ok(None) => return internal("a new session was not found"),
                Err(cause) => return internal(cause),
            };
            let secure = if state.secure_cookie { "; Secure" } else { "" };
            let cookie = format!(
                "hd_session={}; HttpOnly; SameSite=Strict; Path=/{secure}",
                session.token
            );
            let mut response = axum::Json(me_json(&user, &session.csrf_token)).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Ok(Login::Denied)) => {
            audit("login_failed", "wrong user name or password");
            error(StatusCode::UNAUTHORIZED, "wrong user name or password")
        }
        Ok(Ok(Login::RateLimited { retry_after_seconds })) => {
            audit("login_failed", "rate limited");
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("too many failed attempts; try again in {retry_after_seconds} s"),
            );
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Ok(Err(cause)) => internal(cause),
        Err(cause) => internal(cause),
    }
}

async fn logout(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
) -> Response {
    let caller = match caller(&state, &headers, address, true) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if let Some(token) = cookie(&headers, "hd_session") {
        let _ = state.store.logout(&token);
    }
    caller.audit(&state, "logout", "", "");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("hd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

async fn me(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let Some(token) = cookie(&headers, "hd_session") else {
        return error(StatusCode::UNAUTHORIZED, "not logged in");
    };
    match state.store.session(&token) {
        Ok(Some((user, session))) => axum::Json(me_json(&user, &session.csrf_token)).into_response(),
        Ok(None) => error(StatusCode::UNAUTHORIZED, "the session has expired; log in again"),
        Err(cause) => internal(cause),
    }
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    size: Option<usize>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    buckets: Option<usize>,
    #[serde(default)]
    field: Option<String>,
}

impl SearchQuery {
    fn query(&self) -> String {
        self.q
            .clone()
            .filter(|q| !q.trim().is_empty())
            .unwrap_or_else(|| "*".into())
    }

    fn range(&self) -> Result<(i64, i64), Response> {
        let now = now_nanos();
        let from = parse_time(self.from.as_deref().unwrap_or("now-24h"), now)
            .map_err(|problem| error(StatusCode::BAD_REQUEST, &format!("from: {problem}")))?;
        let to = parse_time(self.to.as_deref().unwrap_or("now"), now)
            .map_err(|problem| error(StatusCode::BAD_REQUEST, &format!("to: {problem}")))?;
        if from > to {
            return Err(error(StatusCode::BAD_REQUEST, "from is after to"));
        }
        Ok((from, to))
    }

    fn search_request(&self, size: usize) -> Result<SearchRequest, Response> {
        let (from_nanos, to_nanos) = self.range()?;
        Ok(SearchRequest {
            query: self.query(),
            from_nanos,
            to_nanos,
            size,
            descending: self.sort.as_deref() != Some("asc"),
            cursor: self.cursor.clone(),
            time_limit: QUERY_TIME_LIMIT,
        })
    }
}

/// `now`, `now-15m` (s, m, h, d, w), or RFC 3339.
fn parse_time(text: &str, now: i64) -> Result<i64, String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("now") {
        if rest.is_empty() {
            return Ok(now);
        }
        let (sign, amount) = match rest.as_bytes().first() {
            Some(b'-') => (-1, &rest[1..]),
            Some(b'+') => (1, &rest[1..]),
            _ => return Err(format!("`{text}` is not now, now-15m or RFC 3339")),
        };
        let (number, unit) = amount.split_at(amount.len().saturating_sub(1));
        let number: i64 = number
            .parse()
            .map_err(|_| format!("`{text}`: not a number of units"))?;
        let unit_nanos: i64 = match unit {
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            _ => return Err(format!("`{text}`: the unit is s, m, h, d or w")),
        };
        return Ok(now + sign * number.saturating_mul(unit_nanos));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|moment| moment.unix_timestamp_nanos() as i64)
        .map_err(|_| format!("`{text}` is not now, now-15m or RFC 3339"))
}

/// Runs blocking index work off the async threads, mapping its errors to responses.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::index::IndexError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(crate::index::IndexError::Timeout)) => Err(error(
            StatusCode::REQUEST_TIMEOUT,
            "the query ran past its time limit; narrow the time range or the query",
        )),
        Ok(Err(crate::index::IndexError::Query(problem))) => Err(error(StatusCode::BAD_REQUEST, &problem)),
        Ok(Err(cause)) => Err(internal(cause)),
        Err(cause) => Err(internal(cause)),
    }
}

macro_rules! caller_or_return {
    ($state:expr, $headers:expr, $address:expr, $changes:expr) => {
        match caller(&$state, &$headers, $address, $changes) {
            Ok(caller) => caller,
            Err(response) => return response,
        }
    };
}

async fn search(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let request = match query.search_request(query.size.unwrap_or(50).clamp(1, 1000)) {
        Ok(request) => request,
        Err(response) => return response,
    };
    // Paging on is part of the same search: audited once.
    if request.cursor.is_none() {
        caller.audit(&state, "search", "", &request.query);
    }
    let (index, scope) = (state.index.clone(), caller.scope());
    match blocking(move || index.search(&request, &scope)).await {
        Ok(result) => axum::Json(json!({
            "total": result.total,
            "hits": result.hits,
            "next_cursor": result.next_cursor,
            "took_ms": result.took_ms,
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn event(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    caller.audit(&state, "view_event", &id, "");
    let (index, scope) = (state.index.clone(), caller.scope());
    match blocking(move || index.get(&id, &scope)).await {
        Ok(Some(document)) => axum::Json(document).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such event"),
        Err(response) => response,
    }
}

async fn histogram(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let (from_nanos, to_nanos) = match query.range() {
        Ok(range) => range,
        Err(response) => return response,
    };
    let request = HistogramRequest {
        query: query.query(),
        from_nanos,
        to_nanos,
        buckets: query.buckets.unwrap_or(60).clamp(1, 500),
        time_limit: QUERY_TIME_LIMIT,
    };
    let (index, scope) = (state.index.clone(), caller.scope());
    match blocking(move || index.histogram(&request, &scope)).await {
        Ok(histogram) => axum::Json(json!({
            "interval_ms": histogram.interval_ms,
            "buckets": histogram.buckets.iter().map(|(start, count)| json!({
                "start": crate::parse::format_nanos(*start),
                "count": count,
            })).collect::<Vec<_>>(),
            "took_ms": histogram.took_ms,
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn terms(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let Some(field) = query.field.clone().filter(|field| !field.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "field is required");
    };
    let (from_nanos, to_nanos) = match query.range() {
        Ok(range) => range,
        Err(response) => return response,
    };
    let request = TermsRequest {
        query: query.query(),
        from_nanos,
        to_nanos,
        field,
        size: query.size.unwrap_or(10).clamp(1, 1000),
        time_limit: QUERY_TIME_LIMIT,
    };
    let (index, scope) = (state.index.clone(), caller.scope());
    match blocking(move || index.terms(&request, &scope)).await {
        Ok(terms) => axum::Json(json!({
            "field": terms.field,
            "buckets": terms.buckets.iter().map(|(value, count)| json!({"value": value, "count": count})).collect::<Vec<_>>(),
            "other": terms.other,
            "took_ms": terms.took_ms,
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn export(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let request = match query.search_request(1000) {
        Ok(request) => request,
        Err(response) => return response,
    };
    caller.audit(&state, "export", "", &request.query);
    let (index, scope) = (state.index.clone(), caller.scope());
    let lines = blocking(move || {
        let mut out = Vec::new();
        index.export(&request, &scope, EXPORT_LIMIT, &mut |document| {
            serde_json::to_writer(&mut out, &document)?;
            out.push(b'\n');
            Ok(())
        })?;
        Ok(out)
    })
    .await;
    match lines {
        Ok(lines) => (
            [
                (header::CONTENT_TYPE, "application/x-ndjson"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"haidang-export.ndjson\"",
                ),
            ],
            Body::from(lines),
        )
            .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize, Default)]
struct AlertsQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    cursor: Option<String>,
}

fn parse_status(text: &str) -> Option<Status> {
    Some(match text {
        "new" => Status::New,
        "acknowledged" => Status::Acknowledged,
        "assigned" => Status::Assigned,
        "closed" => Status::Closed,
        _ => return None,
    })
}

async fn alerts(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<AlertsQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let status = match query.status.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => match parse_status(text) {
            Some(status) => Some(status),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("status: `{text}` is not new, acknowledged, assigned or closed"),
                );
            }
        },
    };
    let filter = AlertFilter {
        status,
        severity: query.severity.filter(|text| !text.is_empty()),
        agency: query.agency.filter(|text| !text.is_empty()),
        rule: query.rule.filter(|text| !text.is_empty()),
        limit: query.limit.unwrap_or(100).clamp(1, 1000),
        cursor: query.cursor,
    };
    match state.store.alerts(&filter, &caller.scope()) {
        Ok((alerts, next_cursor)) => {
            axum::Json(json!({"alerts": alerts, "next_cursor": next_cursor})).into_response()
        }
        Err(cause) => internal(cause),
    }
}

async fn alert(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    match state.store.alert(id, &caller.scope()) {
        Ok(Some(alert)) => axum::Json(alert).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such alert"),
        Err(cause) => store_error(cause),
    }
}

#[derive(Deserialize, Default)]
struct TriageBody {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    assignee: Option<String>,
}

async fn triage(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Response {
    let caller = caller_or_return!(state, headers, address, true);
    if caller.user.role == Role::AgencyViewer {
        return error(StatusCode::FORBIDDEN, "agency viewers cannot triage alerts");
    }
    let body: TriageBody = if body.is_empty() {
        TriageBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(body) => body,
            Err(problem) => return error(StatusCode::BAD_REQUEST, &format!("body: {problem}")),
        }
    };
    let triage = match action.as_str() {
        "acknowledge" => Triage::Acknowledge,
        "assign" => match body.assignee.clone().filter(|name| !name.trim().is_empty()) {
            Some(assignee) => Triage::Assign(assignee),
            None => return error(StatusCode::BAD_REQUEST, "assign needs an assignee"),
        },
        "close" => Triage::Close,
        "reopen" => Triage::Reopen,
        "comment" => Triage::Comment,
        other => return error(StatusCode::NOT_FOUND, &format!("no action `{other}`")),
    };
    match state
        .store
        .triage(id, triage, &caller.user.name, &body.comment, &caller.scope())
    {
        Ok(Some(alert)) => {
            let detail = match &body.assignee {
                Some(assignee) if action == "assign" => format!("to {assignee}: {}", body.comment),
                _ => body.comment.clone(),
            };
            caller.audit(&state, &action, &format!("alert {id}"), &detail);
            axum::Json(alert).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no such alert"),
        Err(cause) => store_error(cause),
    }
}

async fn rules(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
) -> Response {
    let _caller = caller_or_return!(state, headers, address, false);
    let (_, ruleset) = state.live.current();
    let hits = match state.store.rule_hits() {
        Ok(hits) => hits,
        Err(cause) => return internal(cause),
    };
    let disabled = state
        .disabled_rules
        .read()
        .map(|set| set.clone())
        .unwrap_or_default();
    let rules: Vec<serde_json::Value> = ruleset
        .rules()
        .iter()
        .filter(|rule| rule.reported)
        .map(|rule| {
            json!({
                "id": rule.id,
                "title": rule.title,
                "level": rule.level,
                "tags": rule.tags,
                "enabled": !disabled.contains(&rule.id),
                "hits": hits.get(&rule.id).copied().unwrap_or(0),
                "kind": match rule.kind { RuleKind::Detection => "detection", RuleKind::Correlation => "correlation" },
                // The file name only: the server's paths are not the analysts' business.
                "source": std::path::Path::new(&rule.source).file_name().map(|name| name.to_string_lossy().into_owned()),
            })
        })
        .collect();
    let failures: Vec<serde_json::Value> = ruleset
        .report()
        .failures
        .iter()
        .map(|failure| {
            let file = std::path::Path::new(&failure.source)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            json!({"path": file, "title": failure.title, "reason": failure.error.to_string()})
        })
        .collect();
    axum::Json(json!({"rules": rules, "failures": failures})).into_response()
}

async fn rule_action(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, true);
    if caller.user.role != Role::Admin {
        return error(StatusCode::FORBIDDEN, "only administrators change rules");
    }
    let enabled = match action.as_str() {
        "enable" => true,
        "disable" => false,
        other => return error(StatusCode::NOT_FOUND, &format!("no action `{other}`")),
    };
    let (_, ruleset) = state.live.current();
    let Some(rule) = ruleset.rules().iter().find(|rule| rule.id == id) else {
        return error(StatusCode::NOT_FOUND, "no such rule");
    };
    if let Err(cause) = state.store.set_rule_enabled(&id, enabled, &caller.user.name) {
        return internal(cause);
    }
    if let Ok(mut disabled) = state.disabled_rules.write() {
        if enabled {
            disabled.remove(&id);
        } else {
            disabled.insert(id.clone());
        }
    }
    caller.audit(
        &state,
        if enabled { "rule_enable" } else { "rule_disable" },
        &id,
        &rule.title,
    );
    let hits = state
        .store
        .rule_hits()
        .ok()
        .and_then(|hits| hits.get(&id).copied())
        .unwrap_or(0);
    axum::Json(json!({
        "id": rule.id, "title": rule.title, "level": rule.level, "tags": rule.tags,
        "enabled": enabled, "hits": hits,
        "kind": match rule.kind { RuleKind::Detection => "detection", RuleKind::Correlation => "correlation" },
    }))
    .into_response()
}

async fn hosts(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    let scope = caller.scope();
    let visible = |agency: Option<&str>| match &scope {
        Scope::All => true,
        Scope::Agencies(agencies) => {
            agency.is_some_and(|agency| agencies.iter().any(|allowed| allowed == agency))
        }
    };
    let mut rows: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let agents: HashMap<String, (String, bool, String)> = state
        .agents
        .lock()
        .map(|table| {
            table
                .iter()
                .map(|(id, status)| {
                    (
                        status.facts.hostname.clone(),
                        (id.clone(), status.connected, status.last_seen.clone()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let seen = state.hosts.lock().map(|table| table.clone()).unwrap_or_default();
    for (host, info) in &seen {
        if !visible(info.agency.as_deref()) {
            continue;
        }
        let agent = agents.get(host);
        rows.insert(
            host.clone(),
            json!({
                "host": host,
                "agent_id": agent.map(|agent| agent.0.clone()),
                "connected": agent.is_some_and(|agent| agent.1),
                "last_seen": crate::parse::format_nanos(info.last_seen_nanos),
                "agency": info.agency, "system": info.system, "grade": info.grade,
                "source_types": info.source_types,
            }),
        );
    }
    // Agents that have not sent an event yet still show, with their inventory entry.
    for (host, (agent_id, connected, last_seen)) in &agents {
        if rows.contains_key(host) {
            continue;
        }
        let system = state
            .inventory
            .as_ref()
            .as_ref()
            .and_then(|inventory| inventory.lookup(host));
        if !visible(system.map(|system| system.agency.as_str())) {
            continue;
        }
        rows.insert(
            host.clone(),
            json!({
                "host": host, "agent_id": agent_id, "connected": connected, "last_seen": last_seen,
                "agency": system.map(|system| system.agency.clone()),
                "system": system.map(|system| system.name.clone()),
                "grade": system.and_then(|system| system.grade),
                "source_types": [],
            }),
        );
    }
    axum::Json(json!({"hosts": rows.into_values().collect::<Vec<_>>()})).into_response()
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    #[serde(default)]
    limit: Option<usize>,
}

async fn audit(
    State(state): State<ApiState>,
    ConnectInfo(super::ui::Peer(address)): ConnectInfo<super::ui::Peer>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Response {
    let caller = caller_or_return!(state, headers, address, false);
    if caller.user.role != Role::Admin {
        return error(StatusCode::FORBIDDEN, "only administrators read the audit log");
    }
    match state
        .store
        .audit_entries(query.limit.unwrap_or(200).clamp(1, 10_000))
    {
        Ok(entries) => axum::Json(json!({"entries": entries})).into_response(),
        Err(cause) => internal(cause),
    }
}

fn now_nanos() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn times_are_relative_or_rfc3339() {
        let now = 1_000_000_000_000_000_000;
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(parse_time("now-15m", now).unwrap(), now - 900_000_000_000);
        assert_eq!(parse_time("now-7d", now).unwrap(), now - 7 * 86_400_000_000_000);
        assert_eq!(
            parse_time("2026-11-27T00:00:00Z", now).unwrap(),
            1_795_737_600_000_000_000
        );
        assert!(parse_time("yesterday", now).unwrap_err().contains("yesterday"));
        assert!(parse_time("now-5y", now).is_err());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hd_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, "hd_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
