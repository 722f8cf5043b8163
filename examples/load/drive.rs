//! The clients, the clock and the histograms: `clients` tasks each keep one request in flight
//! until the duration or the request budget runs out (closed loop, bounded in both).
//!
//! Each client owns one keep-alive HTTP/1.1 connection driven by hyper's connection API (no
//! pool, no per-request URL parsing): the harness shares the two cores with the server it
//! measures, and reqwest's pooled client took 18 % as many samples as the server itself in
//! `perf record -a` of an orders run (2026-11-30, `8088f78`); on hyper the harness spends
//! 20.4 µs of CPU per request against 30.0 (docs/performance.md, "The work around the
//! writer"). A connection that fails is counted as a transport error and opened again for the
//! next request.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request as HttpRequest};
use hyper_util::rt::TokioIo;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::Catalog;
use crate::workload::{self, Kind, Line, Request, Workload};

pub(crate) struct Plan {
    pub addr: SocketAddr,
    pub clients: usize,
    /// `login-flood`: clients sending logins beside the `clients` searching ones.
    pub login_clients: usize,
    pub duration: Duration,
    pub max_requests: u64,
    pub random_seed: u64,
    /// Keep every request's latency, status and path (for `--request-log`).
    pub keep_requests: bool,
}

/// One endpoint's results.
pub(crate) struct KindResults {
    /// Latency in microseconds.
    pub latency: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
}

impl KindResults {
    fn new() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            statuses: BTreeMap::new(),
        }
    }

    fn merge(&mut self, other: KindResults) {
        self.latency.add(other.latency).expect("same bounds");
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
    }
}

/// Everything the run saw.
pub(crate) struct Outcome {
    pub elapsed: Duration,
    pub by_kind: BTreeMap<Kind, KindResults>,
    /// Units per `(store_id, product_id)` of every order answered 201.
    pub confirmed_units: HashMap<(i64, i64), i64>,
    /// Requests that got no HTTP response (connection refused, reset, client timeout).
    pub transport_errors: u64,
    /// Every answered request as (microseconds, status, path), when the plan keeps them.
    pub requests: Vec<(u64, u16, Cow<'static, str>)>,
}

impl Outcome {
    fn new() -> Self {
        Self {
            elapsed: Duration::ZERO,
            by_kind: BTreeMap::new(),
            confirmed_units: HashMap::new(),
            transport_errors: 0,
            requests: Vec::new(),
        }
    }

    fn merge(&mut self, other: Outcome) {
        for (kind, results) in other.by_kind {
            self.by_kind.entry(kind).or_insert_with(KindResults::new).merge(results);
        }
        for (key, units) in other.confirmed_units {
            *self.confirmed_units.entry(key).or_default() += units;
        }
        self.transport_errors += other.transport_errors;
        self.requests.extend(other.requests);
    }

    /// Orders the server answered (201 or 409): each is stored, confirmed or rejected.
    pub(crate) fn orders_answered(&self) -> u64 {
        self.by_kind.get(&Kind::Order).map_or(0, |results| {
            results.statuses.iter().filter(|(status, _)| matches!(status, 201 | 409)).map(|(_, count)| count).sum()
        })
    }

    pub(crate) fn print(&self) {
        let seconds = self.elapsed.as_secs_f64();
        println!(
            "{:<8} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}  statuses",
            "kind", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for (kind, results) in &self.by_kind {
            let latency = &results.latency;
            let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1000.0;
            println!(
                "{:<8} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}  {:?}",
                format!("{kind:?}").to_lowercase(),
                latency.len(),
                latency.len() as f64 / seconds,
                ms(0.5),
                ms(0.9),
                ms(0.99),
                latency.max() as f64 / 1000.0,
                results.statuses
            );
        }
        let total: u64 = self.by_kind.values().map(|results| results.latency.len()).sum();
        println!(
            "total    {total:>9} {:>10.0} in {seconds:.1} s; transport errors: {}",
            total as f64 / seconds,
            self.transport_errors
        );
    }
}

/// Where orders are sent.
const ORDERS_PATH: &str = "/orders/";
/// Where holds are sent.
const RESERVATIONS_PATH: &str = "/reservations/";

/// A request with no answer after this is a transport error (as reqwest's timeout was).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn drive(plan: &Plan, workload: Workload, catalog: Catalog) -> anyhow::Result<Outcome> {
    let catalog = Arc::new(catalog);
    let budget = Arc::new(AtomicU64::new(plan.max_requests));
    let host = plan.addr.to_string();
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut clients = tokio::task::JoinSet::new();
    let login_clients = if workload == Workload::LoginFlood { plan.login_clients } else { 0 };
    for index in 0..plan.clients + login_clients {
        let role = if index < plan.clients { Role::Workload(workload) } else { Role::Login };
        let client = Client {
            addr: plan.addr,
            host: host.clone(),
            connection: None,
            catalog: Arc::clone(&catalog),
            rng: ChaCha8Rng::seed_from_u64(plan.random_seed.wrapping_add(index as u64)),
        };
        clients.spawn(client.run(role, deadline, Arc::clone(&budget), plan.keep_requests));
    }
    let mut outcome = Outcome::new();
    while let Some(result) = clients.join_next().await {
        outcome.merge(result?);
    }
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// What one client sends.
#[derive(Clone, Copy)]
enum Role {
    /// The workload's requests.
    Workload(Workload),
    /// Failing admin logins (the `login-flood` workload's flood).
    Login,
}

/// Where logins are sent.
const LOGIN_PATH: &str = "/api/admin/login/";

struct Client {
    addr: SocketAddr,
    /// The `Host` header every request carries.
    host: String,
    /// The open connection, if any: opened on first use and after a failure.
    connection: Option<SendRequest<String>>,
    catalog: Arc<Catalog>,
    rng: ChaCha8Rng,
}

impl Client {
    async fn run(mut self, role: Role, deadline: Instant, budget: Arc<AtomicU64>, keep_requests: bool) -> Outcome {
        let mut outcome = Outcome::new();
        while Instant::now() < deadline && take_one(&budget) {
            let request = match role {
                Role::Workload(workload) => workload::next(workload, &self.catalog, &mut self.rng),
                Role::Login => workload::login(&mut self.rng),
            };
            let kind = request.kind();
            let sent = Instant::now();
            let (status, lines, path) = match request {
                Request::Order { body, lines } => {
                    (self.send(Method::POST, ORDERS_PATH, body).await, lines, Cow::Borrowed(ORDERS_PATH))
                }
                Request::Reservation { body } => (
                    self.send(Method::POST, RESERVATIONS_PATH, body).await,
                    Vec::new(),
                    Cow::Borrowed(RESERVATIONS_PATH),
                ),
                Request::Login { body } => {
                    (self.send(Method::POST, LOGIN_PATH, body).await, Vec::new(), Cow::Borrowed(LOGIN_PATH))
                }
                Request::Get { path_and_query, .. } => (
                    self.send(Method::GET, &path_and_query, String::new()).await,
                    Vec::new(),
                    Cow::Owned(path_and_query),
                ),
            };
            let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
            match status {
                Some(status) => {
                    let results = outcome.by_kind.entry(kind).or_insert_with(KindResults::new);
                    results.latency.saturating_record(micros);
                    *results.statuses.entry(status).or_default() += 1;
                    if status == 201 {
                        record_confirmed(&mut outcome.confirmed_units, &lines);
                    }
                    if keep_requests {
                        outcome.requests.push((micros, status, path));
                    }
                }
                None => outcome.transport_errors += 1,
            }
        }
        outcome
    }
}

impl Client {
    /// Sends one request on this client's connection and returns its status once the whole
    /// body has arrived (a response is not done before its body is); `None` when no answer
    /// came, after which the next request opens a new connection.
    async fn send(&mut self, method: Method, path_and_query: &str, body: String) -> Option<u16> {
        let mut builder = HttpRequest::builder().method(method).uri(path_and_query).header(HOST, self.host.as_str());
        if !body.is_empty() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let request = builder.body(body).ok()?;
        let answered = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let connection = match self.connection.as_mut() {
                Some(connection) => connection,
                None => self.connection.insert(connect(self.addr).await.ok()?),
            };
            connection.ready().await.ok()?;
            let response = connection.send_request(request).await.ok()?;
            let status = response.status().as_u16();
            response.into_body().collect().await.ok()?;
            Some(status)
        })
        .await;
        let status = answered.ok().flatten();
        if status.is_none() {
            self.connection = None;
        }
        status
    }
}

/// Opens a keep-alive HTTP/1.1 connection; its driver task ends when the sender is dropped.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<String>> {
    let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn take_one(budget: &AtomicU64) -> bool {
    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
}

fn record_confirmed(confirmed: &mut HashMap<(i64, i64), i64>, lines: &[Line]) {
    for (store_id, product_id, quantity) in lines {
        *confirmed.entry((*store_id, *product_id)).or_default() += quantity;
    }
}
