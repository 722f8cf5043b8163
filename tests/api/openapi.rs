//! `GET /openapi.json`: it documents every route the router serves, and real responses match
//! the documented schemas.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog, spawn_app};

async fn openapi(app: &TestApp) -> Value {
    json_with_status(app.get("/openapi.json").await, StatusCode::OK).await
}

#[tokio::test]
async fn the_document_is_openapi_3_1() {
    let app = spawn_app().await;

    let doc = openapi(&app).await;

    assert!(doc["openapi"].as_str().is_some_and(|version| version.starts_with("3.1")), "{}", doc["openapi"]);
    app.shutdown().await;
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_serves() {
    let app = spawn_app().await;

    let doc = openapi(&app).await;

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("path item").keys().map(|method| (method.clone(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = aforro::http::routes()
        .iter()
        .map(|route| (route.method.as_str().to_ascii_lowercase(), route.path.to_owned()))
        .collect();
    assert_eq!(documented, served, "documented (left) vs served (right)");
    app.shutdown().await;
}

#[tokio::test]
async fn every_documented_4xx_is_problem_json() {
    let app = spawn_app().await;

    let doc = openapi(&app).await;

    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                // The contract's one exception: a rejected order answers 409 with the order body.
                let rejected_order = (method.as_str(), path.as_str(), status.as_str()) == ("post", "/orders/", "409");
                if status.starts_with('4') && !rejected_order {
                    let schema = &response["content"]["application/problem+json"]["schema"];
                    assert_eq!(schema["$ref"], json!("#/components/schemas/Problem"), "{method} {path} {status}");
                }
            }
        }
    }
    app.shutdown().await;
}

/// One request per route and outcome worth checking: (method, route template, URL, body, status).
fn samples() -> Vec<(&'static str, &'static str, &'static str, Option<Value>, u16)> {
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let short = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 100}]});
    vec![
        ("post", "/orders/", "/orders/", Some(order), 201),
        ("post", "/orders/", "/orders/", Some(short), 409),
        ("post", "/orders/", "/orders/", Some(json!({"items": []})), 400),
        (
            "post",
            "/orders/",
            "/orders/",
            Some(json!({"store_id": 9, "items": [{"product_id": 1, "quantity_requested": 1}]})),
            404,
        ),
        ("get", "/orders/{order_id}/", "/orders/1/", None, 200),
        ("get", "/orders/{order_id}/", "/orders/999/", None, 404),
        // Order 1 was confirmed above, order 2 rejected.
        ("post", "/orders/{order_id}/cancel/", "/orders/1/cancel/", None, 200),
        ("post", "/orders/{order_id}/cancel/", "/orders/2/cancel/", None, 409),
        ("post", "/orders/{order_id}/cancel/", "/orders/999/cancel/", None, 404),
        ("get", "/stores/{store_id}/orders/", "/stores/1/orders/?page_size=1", None, 200),
        ("get", "/stores/{store_id}/orders/", "/stores/1/orders/?status=LOST", None, 400),
        ("get", "/stores/{store_id}/inventory/", "/stores/1/inventory/?in_stock=true", None, 200),
        ("get", "/stores/{store_id}/inventory/", "/stores/9/inventory/", None, 404),
        ("get", "/api/search/products/", "/api/search/products/?q=kettle", None, 200),
        ("get", "/api/search/products/", "/api/search/products/?store_id=1&sort=price&page_size=2", None, 200),
        ("get", "/api/search/products/", "/api/search/products/?sort=cheapest", None, 400),
        ("get", "/api/search/suggest/", "/api/search/suggest/?q=kett", None, 200),
        ("get", "/api/search/suggest/", "/api/search/suggest/?q=k", None, 400),
        ("get", "/healthz", "/healthz", None, 200),
        ("get", "/readyz", "/readyz", None, 200),
        ("get", "/metrics", "/metrics", None, 200),
        ("get", "/openapi.json", "/openapi.json", None, 200),
        ("get", "/docs/", "/docs/", None, 200),
    ]
}

#[tokio::test]
async fn a_sample_response_of_every_route_matches_its_documented_schema() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    app.state.suggest.wait_until_current().await;
    let doc = openapi(&app).await;
    let samples = samples();
    let sampled: BTreeSet<(&str, &str)> = samples.iter().map(|(method, path, ..)| (*method, *path)).collect();
    for route in aforro::http::routes() {
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(sampled.contains(&(method.as_str(), route.path)), "no sample response for {method} {}", route.path);
    }

    for (method, template, url, body, status) in samples {
        let request = match method {
            "post" => app.client.post(app.url(url)).json(&body.unwrap_or_default()),
            _ => app.client.get(app.url(url)),
        };
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{method} {url}");
        let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
        let documented = &doc["paths"][template][method]["responses"][status.to_string()]["content"];
        let media_type = content_type.split(';').next().unwrap_or_default();
        let schema = &documented[media_type]["schema"];
        assert!(documented.get(media_type).is_some(), "{method} {url}: {content_type} is not documented for {status}");
        if media_type.ends_with("json") && !schema.is_null() {
            let body: Value = response.json().await.expect("JSON body");
            assert_matches_schema(&doc, schema, &body, &format!("{method} {url} → {status}"));
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_schema_check_rejects_a_body_of_the_wrong_shape() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let schema =
        &doc["paths"]["/orders/{order_id}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];

    let result = std::panic::catch_unwind(|| {
        assert_matches_schema(&doc, schema, &json!({"id": "seven", "items": []}), "a wrong body");
    });

    assert!(result.is_err(), "a body without the order's fields passed the schema check");
    app.shutdown().await;
}

/// Validates `instance` against `schema`, resolving `$ref`s into the document's components.
fn assert_matches_schema(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::options().should_validate_formats(true).build(&root).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(instance).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\nbody: {instance}");
}
