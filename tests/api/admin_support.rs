//! Shared by the admin tests: an app with the small catalog and one admin account, and a
//! client that sends the admin's token.

use aforro::db::admin::accounts::create_superuser;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog};

pub(crate) const USERNAME: &str = "boss";
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) fn catalog_and_admin(conn: &Connection) {
    small_catalog(conn);
    create_superuser(conn, USERNAME, PASSWORD, false).expect("create the admin");
}

/// A running app and a live admin token for it.
pub(crate) struct AdminApp {
    pub app: TestApp,
    pub token: String,
}

pub(crate) async fn spawn_admin_app() -> AdminApp {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    let token = login(&app, USERNAME, PASSWORD).await;
    AdminApp { app, token }
}

/// Logs in and returns the token.
pub(crate) async fn login(app: &TestApp, username: &str, password: &str) -> String {
    let response = app
        .client
        .post(app.url("/api/admin/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request");
    let body = json_with_status(response, StatusCode::OK).await;
    body["token"].as_str().expect("a token").to_owned()
}

impl AdminApp {
    /// Shuts the app down (see [`TestApp::shutdown`]).
    pub(crate) async fn shutdown(self) {
        self.app.shutdown().await;
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app.client.request(method, self.app.url(path)).bearer_auth(&self.token)
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let request = self.request(method, path);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.expect("request")
    }

    /// Sends and reads the JSON answer, asserting its status.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>, expected: StatusCode) -> Value {
        json_with_status(self.send(method, path, body).await, expected).await
    }

    /// The product ids a public search returns for `query`.
    pub(crate) async fn search_ids(&self, query: &str) -> Vec<i64> {
        let body =
            json_with_status(self.app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await;
        body["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
    }

    /// The public autocomplete's titles for `q`.
    pub(crate) async fn suggestions(&self, q: &str) -> Vec<String> {
        let url = reqwest::Url::parse_with_params(&self.app.url("/api/search/suggest/"), [("q", q)]).expect("url");
        let body = json_with_status(self.app.client.get(url).send().await.expect("request"), StatusCode::OK).await;
        serde_json::from_value(body["results"].clone()).expect("titles")
    }
}
