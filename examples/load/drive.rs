//! The clients, the clock and the histograms: `clients` tasks each keep one request in flight
//! until the duration or the request budget runs out (closed loop, bounded in both).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reqwest::header::CONTENT_TYPE;

use crate::catalog::Catalog;
use crate::workload::{self, Kind, Line, Request, Workload};

pub(crate) struct Plan {
    pub addr: SocketAddr,
    pub clients: usize,
    pub duration: Duration,
    pub max_requests: u64,
    pub random_seed: u64,
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
}

impl Outcome {
    fn new() -> Self {
        Self { elapsed: Duration::ZERO, by_kind: BTreeMap::new(), confirmed_units: HashMap::new(), transport_errors: 0 }
    }

    fn merge(&mut self, other: Outcome) {
        for (kind, results) in other.by_kind {
            self.by_kind.entry(kind).or_insert_with(KindResults::new).merge(results);
        }
        for (key, units) in other.confirmed_units {
            *self.confirmed_units.entry(key).or_default() += units;
        }
        self.transport_errors += other.transport_errors;
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

pub(crate) async fn drive(plan: &Plan, workload: Workload, catalog: Catalog) -> anyhow::Result<Outcome> {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(plan.clients).timeout(Duration::from_secs(30)).build()?;
    let catalog = Arc::new(catalog);
    let budget = Arc::new(AtomicU64::new(plan.max_requests));
    let base = format!("http://{}", plan.addr);
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut clients = tokio::task::JoinSet::new();
    for index in 0..plan.clients {
        let client = Client {
            http: client.clone(),
            base: base.clone(),
            catalog: Arc::clone(&catalog),
            rng: ChaCha8Rng::seed_from_u64(plan.random_seed.wrapping_add(index as u64)),
        };
        clients.spawn(client.run(workload, deadline, Arc::clone(&budget)));
    }
    let mut outcome = Outcome::new();
    while let Some(result) = clients.join_next().await {
        outcome.merge(result?);
    }
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

struct Client {
    http: reqwest::Client,
    base: String,
    catalog: Arc<Catalog>,
    rng: ChaCha8Rng,
}

impl Client {
    async fn run(mut self, workload: Workload, deadline: Instant, budget: Arc<AtomicU64>) -> Outcome {
        let mut outcome = Outcome::new();
        while Instant::now() < deadline && take_one(&budget) {
            let request = workload::next(workload, &self.catalog, &mut self.rng);
            let kind = request.kind();
            let sent = Instant::now();
            let (status, lines) = match request {
                Request::Order { body, lines } => {
                    let response = self
                        .http
                        .post(format!("{}/orders/", self.base))
                        .header(CONTENT_TYPE, "application/json")
                        .body(body)
                        .send();
                    (read_status(response).await, lines)
                }
                Request::Get { path_and_query, .. } => {
                    (read_status(self.http.get(format!("{}{path_and_query}", self.base)).send()).await, Vec::new())
                }
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
                }
                None => outcome.transport_errors += 1,
            }
        }
        outcome
    }
}

fn take_one(budget: &AtomicU64) -> bool {
    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
}

/// The status once the whole body has arrived (a response is not done before its body is).
async fn read_status(response: impl Future<Output = reqwest::Result<reqwest::Response>>) -> Option<u16> {
    let response = response.await.ok()?;
    let status = response.status().as_u16();
    response.bytes().await.ok()?;
    Some(status)
}

fn record_confirmed(confirmed: &mut HashMap<(i64, i64), i64>, lines: &[Line]) {
    for (store_id, product_id, quantity) in lines {
        *confirmed.entry((*store_id, *product_id)).or_default() += quantity;
    }
}
