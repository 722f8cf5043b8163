//! The admin page in a real browser: headless Debian Chromium, driven through chromedriver's
//! WebDriver protocol (plain JSON over HTTP, so no WebDriver crate is needed). Ignored by
//! default; `scripts/browser-test.sh` starts chromedriver and runs it.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, spawn_admin_app};
use crate::helpers::TestApp;

/// The flags the issue prescribes: no sandbox (root in CI), nothing that reaches the network.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,900",
];
/// The W3C key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Bounds every WebDriver call (a page load included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a click may take to land on its next page.
const NAVIGATION_DEADLINE: Duration = Duration::from_secs(10);

/// One browser session.
struct Browser {
    client: Client,
    session: String,
    /// Removed when the browser is dropped.
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(driver: &str) -> Self {
        let client = Client::builder().timeout(COMMAND_TIMEOUT).build().expect("client");
        let binary = std::env::var("CHROMIUM_BINARY").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        // A fresh profile per run: nothing from an earlier run (cookies, cache) leaks in.
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|arg| (*arg).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
        }}});
        let response = client.post(format!("{driver}/session")).json(&capabilities).send().await.expect("chromedriver");
        let body: Value = response.json().await.expect("session JSON");
        let id = body["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {body}"));
        Self { client, session: format!("{driver}/session/{id}"), _profile: profile }
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.client.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("webdriver command");
        let status = response.status();
        let body: Value = response.json().await.expect("webdriver JSON");
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn current_url(&self) -> reqwest::Url {
        let url = self.command(Method::GET, "/url", None).await;
        reqwest::Url::parse(url.as_str().expect("url")).expect("valid url")
    }

    async fn current_path(&self) -> String {
        self.current_url().await.path().to_owned()
    }

    /// Clicks, then waits until the browser shows `path?query` in a new, fully loaded document
    /// (chromedriver may answer a click before the page it submits has loaded; finding
    /// elements then would find the old page's, and a form posted to its own address shows
    /// the same URL before and after). The old document is marked before the click, so its
    /// URL cannot pass for the new page's. A bounded poll: there is nothing to await across
    /// the process boundary.
    async fn click_to(&self, css: &str, path_and_query: &str) {
        self.execute("window.aforroBeforeClick = true; return null").await;
        self.click(css).await;
        let deadline = std::time::Instant::now() + NAVIGATION_DEADLINE;
        loop {
            let url = self.current_url().await;
            let shown = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            let ready = self
                .execute("return window.aforroBeforeClick === undefined && document.readyState === 'complete'")
                .await;
            if shown == path_and_query && ready == true {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "clicking {css} showed {shown}, not {path_and_query}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` in the page and returns its value.
    async fn execute(&self, script: &str) -> Value {
        self.command(Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    async fn find(&self, css: &str) -> String {
        let found = self.command(Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(Method::POST, &format!("/element/{element}/clear"), Some(json!({}))).await;
        self.command(Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.command(Method::GET, &format!("/element/{element}/text"), None).await.as_str().unwrap_or("").to_owned()
    }

    /// Saves a PNG of the window as `<SCREENSHOT_DIR>/<name>.png` when `SCREENSHOT_DIR` is set
    /// (`scripts/browser-test.sh` sets it to `docs/img`), after pinning what a run cannot
    /// reproduce (see [`pin_volatile_values`]) and loading the page again (a GET) to show it.
    async fn screenshot(&self, app: &TestApp, name: &str) {
        if std::env::var_os("SCREENSHOT_DIR").is_none() {
            return;
        }
        pin_volatile_values(app);
        let url = self.current_url().await;
        self.goto(url.as_str()).await;
        self.screenshot_as_shown(name).await;
    }

    /// The screenshot of the page as it is: for a page that answered a POST, which a reload
    /// would send again (pin the values before that POST instead).
    async fn screenshot_as_shown(&self, name: &str) {
        use base64::Engine as _;
        let Ok(dir) = std::env::var("SCREENSHOT_DIR") else { return };
        let encoded = self.command(Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(encoded.as_str().expect("base64")).expect("png");
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn resize(&self, width: u32, height: u32) {
        self.command(Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// The product ids linked from the `#products` table, in order.
    async fn listed_products(&self) -> Vec<i64> {
        let script =
            "return [...document.querySelectorAll('#products tbody td:first-child')].map(td => Number(td.textContent))";
        let ids = self.execute(script).await;
        ids.as_array().expect("ids").iter().map(|id| id.as_i64().expect("id")).collect()
    }

    async fn quit(&self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

/// The instant the screenshots show for the first recorded time (2026-11-24T09:00:00Z).
const SHOWN_FROM_MICROS: i64 = 1_795_510_800_000_000;

/// Gives every time and event id the pages show a value fixed by its row's id (row `n` at
/// 09:00 plus `n` minutes), so the committed screenshots come out the same at every run: the
/// real values are the run's clock and random ids. Only what the pages show is touched, and
/// only after the writes that made it (the app never reads these columns back to decide).
fn pin_volatile_values(app: &TestApp) {
    let conn = app.db();
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    let at = format!("{SHOWN_FROM_MICROS} + id * 60000000");
    conn.execute_batch(&format!(
        "UPDATE orders SET created_at = {at};
         UPDATE jobs SET run_at = {at}, created_at = {at}, updated_at = {at},
                         done_at = CASE WHEN done_at IS NULL THEN NULL ELSE {at} + 2000000 END,
                         event_id = printf('%032x', id);
         UPDATE admin_log SET created_at = {at};
         UPDATE admin_users SET created_at = {SHOWN_FROM_MICROS};"
    ))
    .expect("pin the shown values");
}

/// Waits (bounded) until the workers have delivered every queued job.
async fn wait_until_every_job_is_done(app: &TestApp) {
    let deadline = std::time::Instant::now() + NAVIGATION_DEADLINE;
    let undone = || -> i64 {
        app.db().query_row("SELECT COUNT(*) FROM jobs WHERE state <> 'done'", [], |row| row.get(0)).expect("jobs")
    };
    while undone() > 0 {
        assert!(std::time::Instant::now() < deadline, "the jobs were not done within {NAVIGATION_DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn log_in_restock_and_see_it(admin: &AdminApp, browser: &Browser) {
    browser.goto(&admin.app.url("/admin/")).await;
    assert_eq!(browser.current_path().await, "/admin/login/", "sent to the login form first");
    browser.screenshot(&admin.app, "admin-login").await;
    browser.type_into("#username", USERNAME).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click_to("#login", "/admin/").await;
    browser.screenshot(&admin.app, "admin-dashboard").await;

    browser.type_into("#q", "tent").await;
    browser.click_to("#products-search", "/admin/products/?q=tent").await;
    assert_eq!(browser.listed_products().await, [3]);
    browser.click_to("#products tbody a", "/admin/products/3/").await;
    assert_eq!(browser.text("#store-1 .quantity").await, "0");
    browser.type_into("#store-1 input[name=quantity]", "7").await;
    browser.click_to("#store-1 button", "/admin/products/3/restock/").await;

    assert!(browser.text("#notice").await.contains("it now holds 7"));
    assert_eq!(browser.text("#store-1 .quantity").await, "7");
    assert_eq!(admin.search_ids("q=tent&store_id=1&in_stock=true").await, [3], "and search sees it");
}

/// The product list: filter by category, sort by a column (twice reverses it), page.
async fn filter_sort_and_page_products(admin: &AdminApp, browser: &Browser) {
    browser.goto(&admin.app.url("/admin/products/")).await;
    assert_eq!(browser.listed_products().await, [1, 2, 3, 4, 5]);
    browser.screenshot(&admin.app, "admin-products").await;
    browser.click_to("#sort-price", "/admin/products/?sort=price").await;
    assert_eq!(browser.listed_products().await, [5, 2, 4, 1, 3]);
    browser.click_to("#sort-price", "/admin/products/?sort=-price").await;
    assert_eq!(browser.listed_products().await, [3, 1, 4, 2, 5]);

    let select = "return (() => { const s = document.querySelector('#category'); s.value = '2'; return s.value })()";
    browser.execute(select).await;
    browser.click_to("#products-search", "/admin/products/?q=&category=2&sort=-price").await;
    assert_eq!(browser.listed_products().await, [3, 4]);

    browser.goto(&admin.app.url("/admin/products/?sort=title&page_size=2")).await;
    assert_eq!(browser.listed_products().await, [5, 2]);
    browser.click_to("#next", "/admin/products/?sort=title&page_size=2&page=2").await;
    assert_eq!(browser.listed_products().await, [3, 4]);
    assert!(browser.text("#count").await.contains("5 found · page 2"));

    browser.resize(390, 844).await;
    browser.goto(&admin.app.url("/admin/products/")).await;
    browser.screenshot(&admin.app, "admin-products-phone").await;
    browser.resize(1280, 900).await;
}

/// Create, an invalid edit (error beside its field), a valid edit (in the history), delete
/// with its confirmation.
async fn create_edit_and_delete_a_product(admin: &AdminApp, browser: &Browser) {
    browser.goto(&admin.app.url("/admin/products/")).await;
    browser.click_to("#add", "/admin/products/new/").await;
    browser.type_into("#title", "Enamel Mug").await;
    browser.type_into("#description", "blue, holds 350 ml").await;
    browser.type_into("#price", "9.90").await;
    browser.click_to("#save", "/admin/products/6/").await;
    assert!(browser.text("#history").await.contains("create"));

    browser.type_into("#price", "cheap").await;
    // The answer to this POST is shown as it comes: its history's time is pinned first.
    pin_volatile_values(&admin.app);
    browser.click_to("#save", "/admin/products/6/").await;
    assert!(browser.text("#price-error").await.contains("non-negative amount"));
    browser.screenshot_as_shown("admin-product-invalid").await;

    browser.type_into("#price", "11.50").await;
    browser.click_to("#save", "/admin/products/6/").await;
    let history = browser.text("#history").await;
    assert!(history.contains("price: 9.90 → 11.50") && history.contains(USERNAME), "{history}");
    browser.screenshot(&admin.app, "admin-product").await;

    browser.click_to("#delete", "/admin/products/6/delete/").await;
    browser.screenshot(&admin.app, "admin-product-delete").await;
    browser.click_to("#confirm-delete", "/admin/products/").await;
    assert_eq!(browser.listed_products().await, [1, 2, 3, 4, 5]);
}

/// Every other section opens and shows its table; screenshots of each.
async fn visit_the_other_sections(admin: &AdminApp, browser: &Browser) {
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}]});
    assert_eq!(admin.app.post_order(&order).await.status(), StatusCode::CREATED);
    // The order and jobs pages show each job's state: the same one at every run.
    wait_until_every_job_is_done(&admin.app).await;
    for (path, table, shot) in [
        ("/admin/categories/", "#rows", "admin-categories"),
        ("/admin/stores/", "#rows", "admin-stores"),
        ("/admin/stores/1/inventory/?sort=quantity", "#inventory", "admin-inventory"),
        ("/admin/stores/1/inventory/1/", "#movements", "admin-movements"),
        ("/admin/stores/1/low-stock/", "#low-stock-rows", "admin-low-stock"),
        ("/admin/stock/bulk/", "#bulk-upload", "admin-bulk-stock"),
        ("/admin/orders/", "#orders", "admin-orders"),
        ("/admin/orders/1/", "#lines", "admin-order"),
        ("/admin/jobs/", "#jobs", "admin-jobs"),
        ("/admin/accounts/", "#accounts", "admin-accounts"),
    ] {
        browser.goto(&admin.app.url(path)).await;
        assert!(!browser.text(table).await.is_empty(), "{path} shows {table}");
        browser.screenshot(&admin.app, shot).await;
    }
    // Cancelling the order from its page puts its two kettles back.
    let before = admin.app.stock(1, 1);
    browser.goto(&admin.app.url("/admin/orders/1/")).await;
    browser.click_to("#cancel-order", "/admin/orders/1/?cancelled=1").await;
    assert!(browser.text("#order-events").await.contains("order.cancelled"));
    assert_eq!(admin.app.stock(1, 1), before + 2);
    browser.goto(&admin.app.url("/admin/stores/1/inventory/?sort=quantity")).await;
    browser.type_into("#quantity-3", "12").await;
    browser.click_to("#product-3 button", "/admin/stores/1/inventory/?sort=quantity&page=1").await;
    assert_eq!(admin.app.stock(1, 3), 12);
}

/// A synonym set and a search rule from their "new" forms prefilled by a query (as the search
/// insights link to them), each shown with its history, and their lists.
async fn curate_search(admin: &AdminApp, browser: &Browser) {
    browser.goto(&admin.app.url("/admin/synonyms/new/?q=teapot")).await;
    browser.type_into("#synonyms", "teapot\nkettle").await;
    browser.click_to("#save-set", "/admin/synonyms/teapot/").await;
    assert!(browser.text("#history").await.contains("create"));
    browser.screenshot(&admin.app, "admin-synonym-set").await;
    browser.goto(&admin.app.url("/admin/synonyms/")).await;
    assert!(browser.text("#synonym-sets").await.contains("teapot, kettle"));
    browser.screenshot(&admin.app, "admin-synonyms").await;

    browser.goto(&admin.app.url("/admin/search-rules/new/?q=tea+time")).await;
    browser.type_into("#pin", "5 1").await;
    browser.type_into("#hide", "2").await;
    browser.click_to("#save-rule", "/admin/search-rules/tea-time/").await;
    browser.screenshot(&admin.app, "admin-search-rule").await;
    browser.goto(&admin.app.url("/admin/search-rules/")).await;
    assert!(browser.text("#search-rules").await.contains("tea time"));
    browser.screenshot(&admin.app, "admin-search-rules").await;
}

/// Shoppers search; the insights show the top and no-result queries and the chart; the
/// preview shows what a query gets and why.
async fn see_search_insights_and_preview(admin: &AdminApp, browser: &Browser) {
    for q in ["kettle", "kettle", "kettle", "steel+kettel", "tent", "tent", "red+scarf", "red+scarf", "mens+jeans"] {
        admin.search_ids(&format!("q={q}")).await;
    }
    let state = &admin.app.state;
    state.analytics.flush(&state.writer, &state.reads).await.expect("flush the search analytics");
    // The times shown, fixed (the chart's dates are the run's days).
    let conn = admin.app.db();
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    conn.execute(&format!("UPDATE search_queries SET last_seen = {SHOWN_FROM_MICROS} + length(q) * 60000000"), [])
        .expect("pin the shown times");
    browser.goto(&admin.app.url("/admin/search-insights/?days=7")).await;
    assert!(browser.text("#top-queries").await.contains("kettle"));
    assert!(browser.text("#no-result-queries").await.contains("red scarf"));
    browser.screenshot(&admin.app, "admin-search-insights").await;
    browser.click_to("#days-30", "/admin/search-insights/?days=30").await;
    assert!(browser.text("#top-queries").await.contains("tent"));

    browser.goto(&admin.app.url("/admin/search-preview/")).await;
    browser.type_into("#q", "cheap kettel").await;
    browser.click_to("#preview-search", "/admin/search-preview/?q=cheap+kettel").await;
    assert!(browser.text("#preview-results").await.contains("typo"));
    assert!(browser.text("#preview-match").await.contains("cheap"));
    browser.screenshot(&admin.app, "admin-search-preview").await;
}

async fn drive(admin: &AdminApp, browser: &Browser) {
    log_in_restock_and_see_it(admin, browser).await;
    filter_sort_and_page_products(admin, browser).await;
    create_edit_and_delete_a_product(admin, browser).await;
    visit_the_other_sections(admin, browser).await;
    curate_search(admin, browser).await;
    see_search_insights_and_preview(admin, browser).await;
}

#[tokio::test]
#[ignore = "needs chromedriver and chromium: run scripts/browser-test.sh"]
async fn an_admin_works_through_every_admin_page_in_headless_chromium() {
    let driver = std::env::var("CHROMEDRIVER_URL").expect("CHROMEDRIVER_URL (scripts/browser-test.sh sets it)");
    let admin = spawn_admin_app().await;
    let browser = std::sync::Arc::new(Browser::start(&driver).await);

    // Quit the browser whatever the outcome, then report the outcome.
    let driving = std::sync::Arc::clone(&browser);
    let outcome = tokio::spawn(async move {
        drive(&admin, &driving).await;
        admin.shutdown().await;
    })
    .await;
    browser.quit().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
