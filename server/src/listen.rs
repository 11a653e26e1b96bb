//! `hookhub listen`: the development relay's client. It follows a source's stream on a running
//! hub (`GET /api/v1/sources/{id}/stream`, see [`crate::receiving::relay`]) and replays each
//! event to a local URL with its original method, headers and exact body, printing a line per
//! event with the local answer. A lost connection is made again with `Last-Event-ID`, so what
//! the hub stored meanwhile is replayed too.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::receiving::handlers::HOP_HEADERS;
use crate::receiving::relay::RelayedEvent;

/// The hub sends a comment every 15 s; a stream silent for this long is dead.
const SILENCE: Duration = Duration::from_secs(45);
const LONGEST_WAIT: Duration = Duration::from_secs(10);
/// How long the local URL has to answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// What `hookhub listen` was asked to do.
pub struct Listen {
    /// The hub's base URL, such as `https://hooks.example.com`.
    pub hub: String,
    pub key: String,
    pub source: String,
    pub forward: String,
    /// Replay from this time (RFC 3339) first.
    pub since: Option<String>,
}

/// Follows the stream until `stop` is cancelled, or until the hub refuses the key or the
/// source, which no retry would change.
pub async fn run(listen: Listen, stop: CancellationToken) -> anyhow::Result<()> {
    let stream_url = format!(
        "{}/api/v1/sources/{}/stream",
        listen.hub.trim_end_matches('/'),
        listen.source
    );
    http_url("--hub", &stream_url)?;
    http_url("--forward", &listen.forward)?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let mut last: Option<i64> = None;
    let mut wait = Duration::from_secs(1);
    eprintln!(
        "listening to source {} on {}, replaying to {}",
        listen.source, listen.hub, listen.forward
    );
    loop {
        // The first connection starts at `--since`; a resumed one after the last event.
        let url = match (last, &listen.since) {
            (None, Some(since)) => {
                let since: String = form_urlencoded::byte_serialize(since.as_bytes()).collect();
                format!("{stream_url}?since={since}")
            }
            _ => stream_url.clone(),
        };
        let mut request = client
            .get(url)
            .bearer_auth(&listen.key)
            .header("accept", "text/event-stream");
        if let Some(id) = last {
            request = request.header("last-event-id", id.to_string());
        }
        let outcome = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            outcome = follow(&client, request, &listen.forward, &mut last, &mut wait) => outcome,
        };
        match outcome {
            Ok(()) => eprintln!("the hub ended the stream; connecting again"),
            Err(Lost::Fatal(err)) => return Err(err),
            Err(Lost::Retry(why)) => eprintln!(
                "lost the hub ({why}); connecting again in {} s",
                wait.as_secs()
            ),
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(LONGEST_WAIT);
    }
}

enum Lost {
    /// The key or the source is wrong: said, and the end.
    Fatal(anyhow::Error),
    /// The connection failed or broke: tried again.
    Retry(String),
}

/// One connection: replays each event it brings, until it ends or breaks.
async fn follow(
    client: &reqwest::Client,
    request: reqwest::RequestBuilder,
    forward: &str,
    last: &mut Option<i64>,
    wait: &mut Duration,
) -> Result<(), Lost> {
    let mut response = request
        .send()
        .await
        .map_err(|e| Lost::Retry(e.to_string()))?;
    match response.status() {
        StatusCode::OK => {}
        status @ (StatusCode::UNAUTHORIZED
        | StatusCode::FORBIDDEN
        | StatusCode::NOT_FOUND
        | StatusCode::BAD_REQUEST) => {
            let body = response.text().await.unwrap_or_default();
            return Err(Lost::Fatal(anyhow::anyhow!(
                "the hub refused the stream: HTTP {status}: {}",
                error_message(&body)
            )));
        }
        status => return Err(Lost::Retry(format!("HTTP {status}"))),
    }
    *wait = Duration::from_secs(1);
    let mut parser = SseParser::default();
    loop {
        let chunk = match tokio::time::timeout(SILENCE, response.chunk()).await {
            Err(_) => return Err(Lost::Retry("no word from it for 45 s".into())),
            Ok(Err(err)) => return Err(Lost::Retry(err.to_string())),
            Ok(Ok(None)) => return Ok(()),
            Ok(Ok(Some(chunk))) => chunk,
        };
        for message in parser.push(&chunk) {
            match message.event.as_str() {
                "webhook" => {
                    let event: RelayedEvent = serde_json::from_str(&message.data).map_err(|e| {
                        Lost::Fatal(anyhow::anyhow!(
                            "the hub sent an event this version cannot read: {e}"
                        ))
                    })?;
                    let id = event.id;
                    replay(client, forward, event).await;
                    *last = Some(id);
                }
                "error" => return Err(Lost::Retry(message.data)),
                _ => {}
            }
        }
    }
}

/// Sends one event to the local URL and prints a line saying what it answered.
async fn replay(client: &reqwest::Client, forward: &str, event: RelayedEvent) {
    let label = format!(
        "{}  #{}  {}",
        event.received_at,
        event.id,
        event.event_type.as_deref().unwrap_or("-")
    );
    let body = match STANDARD.decode(&event.body_base64) {
        Ok(body) => body,
        Err(err) => {
            println!("{label}  not replayed: its body did not decode ({err})");
            return;
        }
    };
    let method =
        reqwest::Method::from_bytes(event.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = client
        .request(method, forward)
        .timeout(FORWARD_TIMEOUT)
        .body(body);
    for (name, value) in &event.headers {
        if !HOP_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            request = request.header(name, value);
        }
    }
    let started = Instant::now();
    let line = match request.send().await {
        Ok(answer) => format!(
            "{label}  → {} ({} ms)",
            answer.status(),
            started.elapsed().as_millis()
        ),
        Err(err) => format!("{label}  → failed: {err}"),
    };
    println!("{line}");
}

/// The message of the REST API's error body, or the body itself.
fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

/// One server-sent event.
#[derive(Debug, Default, PartialEq, Eq)]
struct SseMessage {
    event: String,
    data: String,
}

/// Splits a byte stream into server-sent events as they complete; comments and `id`/`retry`
/// fields are dropped (the relay reads the id from the data).
#[derive(Default)]
struct SseParser {
    pending: Vec<u8>,
}

impl SseParser {
    fn push(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        self.pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(end) = find_blank_line(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end.0).collect();
            self.pending.drain(..end.1 - end.0);
            let mut message = SseMessage {
                event: "message".into(),
                data: String::new(),
            };
            let mut data_lines = Vec::new();
            for line in String::from_utf8_lossy(&block).lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => message.event = value.to_owned(),
                    "data" => data_lines.push(value.to_owned()),
                    _ => {}
                }
            }
            if !data_lines.is_empty() {
                message.data = data_lines.join("\n");
                messages.push(message);
            }
        }
        messages
    }
}

/// Where the first blank line is: the end of the block before it, and the start of what
/// follows it (`\n\n` or `\r\n\r\n`).
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// An http(s) URL; `localhost:4000/hook` would parse with the scheme `localhost`.
fn http_url(option: &str, url: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{option} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("{option} must start with http:// or https://");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_wherever_the_chunks_break() {
        let mut parser = SseParser::default();
        assert_eq!(parser.push(b": keep-alive\n\nevent: webh"), []);
        let messages =
            parser.push(b"ook\nid: 7\ndata: {\"a\":\ndata: 1}\n\nevent: error\ndata: x\r\n\r\n");
        assert_eq!(
            messages,
            [
                SseMessage {
                    event: "webhook".into(),
                    data: "{\"a\":\n1}".into()
                },
                SseMessage {
                    event: "error".into(),
                    data: "x".into()
                }
            ]
        );
        assert!(parser.pending.is_empty());
    }
}
