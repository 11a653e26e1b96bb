//! The ingest load generator: `connections` keep-alive HTTP/1.1 connections, each sending one
//! signed GitHub delivery at a time, on its own single-threaded runtime. Bodies and signatures
//! are computed before the clock starts so the generator stays light; only the delivery id
//! changes per request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::corpus;

/// Distinct pre-signed bodies the connections cycle through.
const BODIES: usize = 1024;
pub const BODY_BYTES: usize = 1024;

pub struct Target {
    pub addr: SocketAddr,
    /// `/hooks/{source}`
    pub path: String,
    pub secret: Vec<u8>,
}

pub struct Plan {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Makes delivery ids unique across rounds against the same database.
    pub round: usize,
}

#[derive(Default)]
pub struct Outcome {
    /// 2xx answers to requests sent inside the measured window, per whole second of it.
    pub accepted_per_second: Vec<u64>,
    pub non_2xx: u64,
    pub errors: u64,
    /// Latency of each 2xx answer sent inside the measured window, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Every delivery id answered 2xx, the warm-up included.
    pub acked: Vec<String>,
    pub first_failure: Option<String>,
}

impl Outcome {
    pub fn merge(&mut self, other: Outcome) {
        if self.accepted_per_second.len() < other.accepted_per_second.len() {
            self.accepted_per_second
                .resize(other.accepted_per_second.len(), 0);
        }
        for (i, n) in other.accepted_per_second.into_iter().enumerate() {
            self.accepted_per_second[i] += n;
        }
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.acked.extend(other.acked);
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    pub fn accepted(&self) -> u64 {
        self.accepted_per_second.iter().sum()
    }
}

/// Runs the plan against `target` on a thread of its own and returns what it saw.
pub fn run(target: Target, plan: Plan) -> anyhow::Result<Outcome> {
    let bodies: Vec<(Bytes, HeaderValue)> = (0..BODIES)
        .map(|i| {
            let body = corpus::github_push(i as u64, BODY_BYTES);
            let signature = corpus::github_signature(&target.secret, &body);
            (
                Bytes::from(body),
                HeaderValue::from_str(&signature).expect("hex is a valid header"),
            )
        })
        .collect();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(drive(&target, &plan, &bodies))
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the load generator panicked"))?
    })
}

async fn drive(
    target: &Target,
    plan: &Plan,
    bodies: &[(Bytes, HeaderValue)],
) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let end = window_start + plan.duration;
    let seconds = plan.duration.as_secs_f64().ceil() as usize;
    let host = HeaderValue::from_str(&target.addr.to_string())?;
    let local = tokio::task::LocalSet::new();
    let tasks: Vec<_> = (0..plan.connections)
        .map(|conn| {
            let host = host.clone();
            local.spawn_local(connection(
                target.addr,
                target.path.clone(),
                host,
                bodies.to_vec(),
                conn,
                plan.round,
                (window_start, end, seconds),
            ))
        })
        .collect();
    let mut outcome = Outcome {
        accepted_per_second: vec![0; seconds],
        ..Default::default()
    };
    local
        .run_until(async {
            for task in tasks {
                outcome.merge(task.await?);
            }
            anyhow::Ok(())
        })
        .await?;
    Ok(outcome)
}

async fn connection(
    addr: SocketAddr,
    path: String,
    host: HeaderValue,
    bodies: Vec<(Bytes, HeaderValue)>,
    conn: usize,
    round: usize,
    (window_start, end, seconds): (Instant, Instant, usize),
) -> Outcome {
    let mut outcome = Outcome {
        accepted_per_second: vec![0; seconds],
        ..Default::default()
    };
    let json = HeaderValue::from_static("application/json");
    let agent = HeaderValue::from_static("GitHub-Hookshot/bench");
    let push = HeaderValue::from_static("push");
    let mut seq: u64 = 0;
    'connect: while Instant::now() < end {
        let mut sender = match connect(addr).await {
            Ok(sender) => sender,
            Err(err) => {
                outcome.errors += 1;
                outcome
                    .first_failure
                    .get_or_insert(format!("connect: {err}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        loop {
            let sent = Instant::now();
            if sent >= end {
                break 'connect;
            }
            seq += 1;
            let delivery = format!("bench-{round}-{conn}-{seq}");
            let (body, signature) = &bodies[(seq as usize * 31 + conn) % bodies.len()];
            let request = Request::post(path.as_str())
                .header(HOST, host.clone())
                .header(USER_AGENT, agent.clone())
                .header(CONTENT_TYPE, json.clone())
                .header("x-github-event", push.clone())
                .header("x-github-delivery", delivery.as_str())
                .header("x-hub-signature-256", signature.clone())
                .body(Full::new(body.clone()))
                .expect("a valid request");
            let answered = async {
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status();
                response.into_body().collect().await?;
                Ok::<_, hyper::Error>(status)
            }
            .await;
            let took = sent.elapsed();
            let measured = sent >= window_start;
            match answered {
                Ok(status) if status.is_success() => {
                    outcome.acked.push(delivery);
                    if measured {
                        let second = (sent - window_start).as_secs() as usize;
                        outcome.accepted_per_second[second.min(seconds - 1)] += 1;
                        outcome.latencies_us.push(took.as_micros() as u64);
                    }
                }
                Ok(status) => {
                    outcome.non_2xx += u64::from(measured);
                    outcome
                        .first_failure
                        .get_or_insert(format!("answered {status}"));
                }
                Err(err) => {
                    outcome.errors += u64::from(measured);
                    outcome.first_failure.get_or_insert(format!("{err}"));
                    continue 'connect;
                }
            }
        }
    }
    outcome
}

async fn connect(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(sender)
}
