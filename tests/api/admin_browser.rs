//! The admin page in a real browser: headless Debian Chromium, driven through chromedriver's
//! WebDriver protocol (plain JSON over HTTP, so no WebDriver crate is needed). Ignored by
//! default; `scripts/browser-test.sh` starts chromedriver and runs it.

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, spawn_admin_app};

/// The flags the issue prescribes: no sandbox (root in CI), nothing that reaches the network.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
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
}

impl Browser {
    async fn start(driver: &str) -> Self {
        let client = Client::builder().timeout(COMMAND_TIMEOUT).build().expect("client");
        let binary = std::env::var("CHROMIUM_BINARY").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": CHROMIUM_ARGS},
        }}});
        let response = client.post(format!("{driver}/session")).json(&capabilities).send().await.expect("chromedriver");
        let body: Value = response.json().await.expect("session JSON");
        let id = body["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {body}"));
        Self { client, session: format!("{driver}/session/{id}") }
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

    /// Clicks, then waits until the browser shows `path?query` (chromedriver may answer a
    /// click before the page it submits has loaded; finding elements then would find the
    /// old page's). A bounded poll: there is nothing to await across the process boundary.
    async fn click_to(&self, css: &str, path_and_query: &str) {
        self.click(css).await;
        let deadline = std::time::Instant::now() + NAVIGATION_DEADLINE;
        loop {
            let url = self.current_url().await;
            let shown = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            let ready = self
                .command(
                    Method::POST,
                    "/execute/sync",
                    Some(json!({"script": "return document.readyState", "args": []})),
                )
                .await;
            if shown == path_and_query && ready == "complete" {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "clicking {css} showed {shown}, not {path_and_query}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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

    async fn quit(&self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

async fn log_in_restock_and_see_it(admin: &AdminApp, browser: &Browser) {
    browser.goto(&admin.app.url("/admin/")).await;
    assert_eq!(browser.current_path().await, "/admin/login/", "sent to the login form first");
    browser.type_into("#username", USERNAME).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click_to("#login", "/admin/").await;

    browser.type_into("#q", "tent").await;
    browser.click_to("#products-search", "/admin/?q=tent").await;
    browser.click_to("#products a", "/admin/products/3/").await;
    assert_eq!(browser.text("#store-1 .quantity").await, "0");
    browser.type_into("#store-1 input[name=quantity]", "7").await;
    browser.click_to("#store-1 button", "/admin/products/3/restock/").await;

    assert!(browser.text("#notice").await.contains("it now holds 7"));
    assert_eq!(browser.text("#store-1 .quantity").await, "7");
    assert_eq!(admin.search_ids("q=tent&store_id=1&in_stock=true").await, [3], "and search sees it");
}

#[tokio::test]
#[ignore = "needs chromedriver and chromium: run scripts/browser-test.sh"]
async fn an_admin_logs_in_restocks_and_sees_the_change_in_headless_chromium() {
    let driver = std::env::var("CHROMEDRIVER_URL").expect("CHROMEDRIVER_URL (scripts/browser-test.sh sets it)");
    let admin = spawn_admin_app().await;
    let browser = std::sync::Arc::new(Browser::start(&driver).await);

    // Quit the browser whatever the outcome, then report the outcome.
    let driving = std::sync::Arc::clone(&browser);
    let outcome = tokio::spawn(async move {
        log_in_restock_and_see_it(&admin, &driving).await;
        admin.shutdown().await;
    })
    .await;
    browser.quit().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
