//! A bounded, loopback-only load test of `GET /api/search/products/`: sends a realistic mix of
//! searches at a fixed rate (open loop: a slow response does not slow the sender down, so
//! queueing shows up in the latencies) and prints the latency percentiles.
//!
//! ```text
//! aforro --data-dir target/bench-data/1m/data --index-dir target/bench-data/1m/index serve &
//! cargo run --release --example load_search -- http://127.0.0.1:8000 2000 10
//! ```
//! Arguments: base URL (loopback only), requests per second (≤ 5000), seconds (≤ 60).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

const MAX_RATE: u64 = 5_000;
const MAX_SECONDS: u64 = 60;

/// Words shoppers type: product nouns, materials, brands, adjectives of the seeded catalog.
const WORDS: &[&str] = &[
    "kettle",
    "tent",
    "headphones",
    "lamp",
    "mat",
    "blanket",
    "backpack",
    "knife",
    "board",
    "speaker",
    "charger",
    "pillow",
    "shoes",
    "helmet",
    "hose",
    "puzzle",
    "shampoo",
    "notebook",
    "leash",
    "novel",
    "hoodie",
    "hammer",
    "tea",
    "stroller",
    "steel",
    "bamboo",
    "cotton",
    "leather",
    "walnut",
    "copper",
    "wool",
    "acme",
    "nordwind",
    "zephyr",
    "premium",
    "portable",
    "wireless",
    "vintage",
    "compact",
    "rugged",
];
const CATEGORIES: &[&str] = &["kitchen", "outdoor", "electronics", "home", "sports", "garden", "toys", "books"];

/// The `i`-th request of the mix: mostly one- and two-word searches, some filtered by
/// category and price, some scoped to a store's stock, some browse pages. Thousands of
/// distinct query strings, so the result cache sees a realistic, not a perfect, hit rate.
fn query(i: u64) -> String {
    // A fixed pseudo-random sequence (splitmix64), so runs are comparable.
    let mut state = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = |n: usize| {
        state ^= state >> 30;
        state = state.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        state ^= state >> 27;
        (state % n as u64) as usize
    };
    let word = |next: &mut dyn FnMut(usize) -> usize| WORDS[next(WORDS.len())];
    match next(20) {
        0..=6 => format!("q={}&page={}", word(&mut next), 1 + next(3)),
        7..=9 => format!("q={}%20{}", word(&mut next), word(&mut next)),
        10..=12 => format!(
            "q={}&category={}&min_price={}&max_price={}",
            word(&mut next),
            CATEGORIES[next(CATEGORIES.len())],
            next(50),
            50 + next(500)
        ),
        13..=15 => format!("q={}&store_id={}&in_stock=true", word(&mut next), 1 + next(50)),
        16 => format!("store_id={}&in_stock=true&page={}", 1 + next(50), 1 + next(5)),
        17 => format!(
            "category={}&sort={}&page={}",
            CATEGORIES[next(CATEGORIES.len())],
            ["price", "-price"][next(2)],
            1 + next(5)
        ),
        18 => format!("q={}&in_stock=true", word(&mut next)),
        _ => format!("sort=newest&page={}", 1 + next(5)),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8000".to_owned());
    let rate: u64 = args.get(2).map_or(Ok(2_000), |text| text.parse())?;
    let seconds: u64 = args.get(3).map_or(Ok(10), |text| text.parse())?;
    let host = base.trim_start_matches("http://").split([':', '/']).next().unwrap_or("");
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("refusing to load {host}: loopback only").into());
    }
    if rate == 0 || rate > MAX_RATE || seconds == 0 || seconds > MAX_SECONDS {
        return Err(format!("rate must be 1..={MAX_RATE} and seconds 1..={MAX_SECONDS}").into());
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).timeout(Duration::from_secs(5)).build()?;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity((rate * seconds) as usize)));
    let errors = Arc::new(Mutex::new(0u64));
    let total = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for sent in 0..total {
        ticker.tick().await;
        let url = format!("{base}/api/search/products/?{}", query(sent));
        let (client, latencies, errors) = (client.clone(), latencies.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            // A 404 is a page past the end of a small result set: a valid answer, timed too.
            let ok = match client.get(&url).send().await {
                Ok(response) => {
                    let answered =
                        response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND;
                    answered && response.bytes().await.is_ok()
                }
                Err(_) => false,
            };
            if ok {
                latencies.lock().await.push(at.elapsed());
            } else {
                *errors.lock().await += 1;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed();
    let mut latencies = latencies.lock().await.clone();
    latencies.sort_unstable();
    let percentile =
        |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    println!(
        "sent {total} in {:.1}s ({:.0}/s), ok {}, errors {}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        latencies.len(),
        errors.lock().await
    );
    for (name, p) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999)] {
        println!("{name}: {:?}", percentile(p).copied().unwrap_or_default());
    }
    println!("max: {:?}", latencies.last().copied().unwrap_or_default());
    Ok(())
}
