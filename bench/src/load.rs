//! A closed-loop HTTP load generator: `connections` keep-alive HTTP/1.1 connections, each
//! sending the next prepared request as soon as its previous answer arrived, on a Tokio
//! runtime of its own thread (so the load costs at most one core). Records every
//! request's latency; the caller checks the answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// One prepared request.
#[derive(Clone)]
pub struct Prepared {
    pub method: hyper::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// What came back for one request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub latency: Duration,
}

pub struct Run {
    /// In the order of `requests`; `None` when the connection failed.
    pub answers: Vec<Option<Answer>>,
    pub elapsed: Duration,
}

/// Sends every request once over `connections` connections to `addr` (`127.0.0.1:port`).
pub fn run(addr: &str, requests: Arc<Vec<Prepared>>, connections: usize) -> Result<Run> {
    let addr = addr.to_string();
    std::thread::spawn(move || -> Result<Run> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(drive(addr, requests, connections))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("load thread panicked"))?
}

async fn drive(addr: String, requests: Arc<Vec<Prepared>>, connections: usize) -> Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (addr, requests, next) = (addr.clone(), requests.clone(), next.clone());
        workers.push(tokio::spawn(
            async move { worker(addr, requests, next).await },
        ));
    }
    let mut answers: Vec<Option<Answer>> = vec![None; requests.len()];
    for w in workers {
        for (i, a) in w.await.context("worker")?? {
            answers[i] = Some(a);
        }
    }
    Ok(Run {
        answers,
        elapsed: started.elapsed(),
    })
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: &str) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn worker(
    addr: String,
    requests: Arc<Vec<Prepared>>,
    next: Arc<AtomicUsize>,
) -> Result<Vec<(usize, Answer)>> {
    let mut sender = connect(&addr).await?;
    let mut out = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(p) = requests.get(i) else {
            return Ok(out);
        };
        let mut req = Request::builder()
            .method(p.method.clone())
            .uri(&p.path)
            .header("host", &addr);
        for (k, v) in &p.headers {
            req = req.header(k, v);
        }
        let req = req.body(Full::new(p.body.clone()))?;
        let t = Instant::now();
        if sender.ready().await.is_err() {
            sender = connect(&addr).await?;
        }
        let answer = match sender.send_request(req).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                body.ok().map(|body| Answer {
                    status,
                    body,
                    latency: t.elapsed(),
                })
            }
            Err(_) => None,
        };
        match answer {
            Some(a) => out.push((i, a)),
            // The connection broke: reconnect for the next request.
            None => sender = connect(&addr).await?,
        }
    }
}

/// Latency percentiles (ms) over the answered requests.
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub fn latency(answers: &[Option<Answer>]) -> Latency {
    let mut v: Vec<f64> = answers
        .iter()
        .flatten()
        .map(|a| a.latency.as_secs_f64() * 1000.0)
        .collect();
    v.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        if v.is_empty() {
            return f64::NAN;
        }
        let idx = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[idx]
    };
    Latency {
        p50: pick(0.50),
        p90: pick(0.90),
        p99: pick(0.99),
        max: pick(1.0),
    }
}
