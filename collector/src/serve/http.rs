//! HTTP ingest: `POST /ingest` (JSON lines or concatenated JSON documents: Winlogbeat, NXLog,
//! Fluent Bit, Vector), `POST /_bulk` and `POST /{index}/_bulk` (the Elasticsearch bulk shape, so
//! Beats and Fluent Bit's `es` output can send here), `GET /` (the little an Elasticsearch client
//! asks before sending), `POST /ingest/lines?format=F&host=H` (raw log lines, as `haidang import`
//! sends plain files), `GET /health` (the counters, JSON) and `GET /metrics` (the counters for
//! Prometheus).
//!
//! A request is answered once all its documents are durable in the write-ahead log (so an
//! answered request survives a crash of the collector); while the pipeline is full the request
//! waits, which slows the sender. Malformed documents are counted and reported in the response;
//! the others of the request are still taken.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use tokio::sync::watch;

use haidang_event::wire::{Body, Record};

use super::Counters;
use super::config::Listener;
use crate::parse::Format;

/// Most raw bytes in one WAL batch from this input.
const BATCH_BYTES: usize = 4 << 20;

/// Largest request body accepted.
const MAX_BODY: usize = 64 << 20;

#[derive(Clone)]
struct AppState {
    wal: std::sync::mpsc::SyncSender<super::agents::Request>,
    counters: Arc<Counters>,
    agents: super::agents::AgentTable,
}

/// Binds the HTTP input and starts serving.
pub(crate) async fn serve(
    listener: &Listener,
    wal: std::sync::mpsc::SyncSender<super::agents::Request>,
    counters: Arc<Counters>,
    agents: super::agents::AgentTable,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let socket = tokio::net::TcpListener::bind(listener.address)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", listener.address))?;
    let address = socket.local_addr()?;
    let router = router(AppState {
        wal,
        counters,
        agents,
    });
    tokio::spawn(async move {
        let _ = axum::serve(socket, router)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok(address)
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/ingest", post(ingest))
        .route("/ingest/lines", post(ingest_lines))
        .route("/_bulk", post(bulk))
        .route("/{index}/_bulk", post(bulk))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn root() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": "haidang",
        "tagline": "Hải Đăng collector (Elasticsearch bulk-compatible ingest)",
        "version": {"number": "8.11.0", "build_flavor": "default"},
    }))
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let mut health = serde_json::to_value(&*state.counters).unwrap_or_default();
    let agents = state
        .agents
        .lock()
        .map(|table| serde_json::to_value(&*table).unwrap_or_default())
        .unwrap_or_default();
    if let Some(object) = health.as_object_mut() {
        object.insert("agents".into(), agents);
    }
    Json(health)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = match state.agents.lock() {
        Ok(agents) => super::metrics::render(&state.counters, &agents),
        Err(_) => super::metrics::render(&state.counters, &Default::default()),
    };
    (
        [(axum::http::header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

/// Splits a body into JSON document texts (one per line, or concatenated, or pretty-printed).
/// After a malformed document, splitting resumes at the next line: one bad document does not
/// drop the rest of the request.
fn documents(body: &[u8]) -> (Vec<String>, Vec<String>) {
    let text = String::from_utf8_lossy(body);
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut offset = 0;
    'resume: while offset < text.len() {
        let rest = &text[offset..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde::de::IgnoredAny>();
        let mut start = 0;
        loop {
            match stream.next() {
                None => break 'resume,
                Some(Ok(_)) => {
                    let end = stream.byte_offset();
                    documents.push(rest[start..end].trim().to_owned());
                    start = end;
                }
                Some(Err(error)) => {
                    errors.push(format!("document after byte {}: {error}", offset + start));
                    // Skip to the line after the one where the bad document starts.
                    let bad = offset + start + rest[start..].len() - rest[start..].trim_start().len();
                    match text[bad..].find('\n') {
                        Some(newline) => offset = bad + newline + 1,
                        None => break 'resume,
                    }
                    continue 'resume;
                }
            }
        }
    }
    (documents, errors)
}

/// Writes records to the WAL and waits until they are durable: only then does the sender get
/// its answer. Large requests are cut into batches of at most [`BATCH_BYTES`].
async fn durable(state: &AppState, records: Vec<Record>) -> Result<usize, Response> {
    let count = records.len();
    let mut start = 0;
    while start < records.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < records.len() && (end == start || bytes < BATCH_BYTES) {
            bytes += record_bytes(&records[end]);
            end += 1;
        }
        if let Err(error) = super::agents::submit_local(&state.wal, &records[start..end]).await {
            eprintln!("haidang: http ingest: {error:#}");
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "the collector could not store the events",
            )
                .into_response());
        }
        start = end;
    }
    Ok(count)
}

fn record_bytes(record: &Record) -> usize {
    match &record.body {
        Body::Line { text, .. } => text.len() + 64,
        Body::Event(_) => 1024,
    }
}

/// A record of the HTTP input.
fn record(text: String, format: Option<&str>, host: Option<&str>) -> Record {
    Record {
        observed_nanos: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64,
        source: match host {
            Some(host) => format!("http host={host}"),
            None => "http".to_owned(),
        },
        body: Body::Line {
            text,
            format: format.map(str::to_owned),
        },
    }
}

async fn queue(state: &AppState, texts: Vec<String>) -> Result<usize, Response> {
    Counters::add(&state.counters.received_http, texts.len() as u64);
    let records = texts
        .into_iter()
        .map(|text| record(text, Some("json"), None))
        .collect();
    durable(state, records).await
}

async fn ingest(State(state): State<AppState>, body: Bytes) -> Response {
    let (texts, errors) = documents(&body);
    Counters::add(&state.counters.input_errors, errors.len() as u64);
    match queue(&state, texts).await {
        Ok(accepted) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::MULTI_STATUS
            };
            (
                status,
                Json(serde_json::json!({"accepted": accepted, "errors": errors})),
            )
                .into_response()
        }
        Err(response) => response,
    }
}

/// Query of `POST /ingest/lines`.
#[derive(Debug, serde::Deserialize)]
struct LinesQuery {
    /// Parse format (default: detected per line).
    #[serde(default)]
    format: Option<String>,
    /// The host the lines come from, for lines that do not name one (access logs, audit.log).
    #[serde(default)]
    host: Option<String>,
}

/// Raw log lines, one per line of the body (`haidang import` sends plain files so): parsed like
/// syslog lines, with an optional forced format and a host for lines that carry none.
async fn ingest_lines(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<LinesQuery>,
    body: Bytes,
) -> Response {
    let format = match query.format.as_deref().map(str::parse::<Format>) {
        None => Format::Auto,
        Some(Ok(format)) => format,
        Some(Err(problem)) => return (StatusCode::BAD_REQUEST, problem).into_response(),
    };
    let host = query
        .host
        .filter(|host| !host.is_empty() && !host.contains(char::is_whitespace));
    let format = (format != Format::Auto).then(|| query.format.clone()).flatten();
    let text = String::from_utf8_lossy(&body);
    let records: Vec<Record> = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty())
        .map(|line| record(line.to_owned(), format.as_deref(), host.as_deref()))
        .collect();
    Counters::add(&state.counters.received_http, records.len() as u64);
    match durable(&state, records).await {
        Ok(accepted) => Json(serde_json::json!({"accepted": accepted, "errors": []})).into_response(),
        Err(response) => response,
    }
}

/// The Elasticsearch bulk body: an action line (`index`, `create`; `delete` and `update` are
/// acknowledged and ignored) followed by the document line.
async fn bulk(State(state): State<AppState>, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let text = String::from_utf8_lossy(&body);
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let mut texts = Vec::new();
    let mut items = Vec::new();
    let mut any_error = false;
    while let Some(action_line) = lines.next() {
        let action: serde_json::Value = match serde_json::from_str(action_line) {
            Ok(action) => action,
            Err(error) => {
                any_error = true;
                Counters::add(&state.counters.input_errors, 1);
                items.push(serde_json::json!({"index": {"status": 400, "error": {"type": "parse_exception", "reason": error.to_string()}}}));
                continue;
            }
        };
        let kind = ["index", "create", "delete", "update"]
            .into_iter()
            .find(|kind| action.get(*kind).is_some())
            .unwrap_or("index");
        if kind == "delete" {
            items.push(serde_json::json!({kind: {"status": 200}}));
            continue;
        }
        let Some(document) = lines.next() else { break };
        if kind == "update" {
            items.push(serde_json::json!({kind: {"status": 200}}));
            continue;
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(document).is_ok() {
            texts.push(document.to_owned());
            items.push(serde_json::json!({kind: {"status": 201, "result": "created"}}));
        } else {
            any_error = true;
            Counters::add(&state.counters.input_errors, 1);
            items.push(serde_json::json!({kind: {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "invalid JSON document"}}}));
        }
    }
    if let Err(response) = queue(&state, texts).await {
        return response;
    }
    Json(serde_json::json!({
        "took": started.elapsed().as_millis() as u64,
        "errors": any_error,
        "items": items,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_into_documents_and_a_bad_line_keeps_the_rest() {
        let (documents, errors) = documents(b"{\"a\":1}\n{\"b\":\n2}{\"c\":3}\n{oops}\n{\"d\":4}\n");
        assert_eq!(
            documents,
            vec!["{\"a\":1}", "{\"b\":\n2}", "{\"c\":3}", "{\"d\":4}"]
        );
        assert_eq!(errors.len(), 1);
    }
}
