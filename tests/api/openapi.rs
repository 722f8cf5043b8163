//! `GET /openapi.json`: it documents every route the router serves (the admin API with its
//! bearer token), and real responses match the documented schemas.

use std::collections::BTreeSet;

use aforro::http::access::Gate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin_support::{PASSWORD, USERNAME, catalog_and_admin, login};
use crate::helpers::{TestApp, json_with_status, spawn_app};

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
            for status in operation["responses"].as_object().expect("responses").keys() {
                // The contract's one exception: a rejected order answers 409 with the order body.
                let rejected_order = (method.as_str(), path.as_str(), status.as_str()) == ("post", "/orders/", "409");
                if status.starts_with('4') && !rejected_order {
                    let schema =
                        &response_of(&doc, path, method, status)["content"]["application/problem+json"]["schema"];
                    assert_eq!(schema["$ref"], json!("#/components/schemas/Problem"), "{method} {path} {status}");
                }
            }
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn every_gated_operation_names_its_credential_and_documents_401_403_429() {
    let app = spawn_app().await;

    let doc = openapi(&app).await;

    for name in ["admin_token", "bearer"] {
        let scheme = &doc["components"]["securitySchemes"][name];
        assert_eq!((&scheme["type"], &scheme["scheme"]), (&json!("http"), &json!("bearer")), "{scheme}");
    }
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            documented += 1;
            let security = &operation["security"];
            let rule = aforro::http::access::rule_for(&method.to_ascii_uppercase().parse().expect("a method"), path)
                .unwrap_or_else(|| panic!("{method} {path} has no access rule"));
            match rule.gate {
                Gate::Open => assert!(security.is_null(), "{method} {path} is open"),
                Gate::Guarded(_) if path.starts_with("/api/admin/") => {
                    assert_eq!(security, &json!([{"admin_token": []}, {"bearer": []}]), "{method} {path}");
                }
                Gate::Guarded(_) | Gate::Public(_) => assert_eq!(security, &json!([{"bearer": []}]), "{method} {path}"),
            }
            if rule.gate != Gate::Open {
                for status in ["401", "403", "429"] {
                    assert!(response_of(&doc, path, method, status).is_object(), "{method} {path} documents {status}");
                }
            }
        }
    }
    assert_eq!(documented, aforro::http::routes().len(), "every route is documented");
    app.shutdown().await;
}

/// A documented response, following a `$ref` into `components.responses`.
fn response_of<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let response = &doc["paths"][path][method]["responses"][status];
    match response["$ref"].as_str().and_then(|name| name.strip_prefix("#/components/responses/")) {
        Some(name) => &doc["components"]["responses"][name],
        None => response,
    }
}

/// One request the samples send and the status it must answer.
struct Sample {
    method: &'static str,
    /// The route's template, as documented.
    template: &'static str,
    url: &'static str,
    body: Option<Value>,
    status: u16,
    /// Sent with the admin's token.
    token: bool,
}

fn sample(method: &'static str, template: &'static str, url: &'static str, body: Option<Value>, status: u16) -> Sample {
    let token = template.starts_with("/api/admin/") || template.starts_with("/api/keys/");
    Sample { method, template, url, body, status, token }
}

/// One request per route and outcome worth checking.
fn samples() -> Vec<Sample> {
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let short = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 100}]});
    let hold = json!({"store_id": 1, "items": [{"product_id": 1, "quantity": 1}]});
    let mut samples = vec![
        sample("post", "/orders/", "/orders/", Some(order), 201),
        sample("post", "/orders/", "/orders/", Some(short), 409),
        sample("post", "/orders/", "/orders/", Some(json!({"items": []})), 400),
        sample(
            "post",
            "/orders/",
            "/orders/",
            Some(json!({"store_id": 9, "items": [{"product_id": 1, "quantity_requested": 1}]})),
            404,
        ),
        sample("get", "/orders/{order_id}/", "/orders/1/", None, 200),
        sample("get", "/orders/{order_id}/", "/orders/999/", None, 404),
        // Order 1 was confirmed above, order 2 rejected.
        sample("post", "/orders/{order_id}/cancel/", "/orders/1/cancel/", None, 200),
        sample("post", "/orders/{order_id}/cancel/", "/orders/2/cancel/", None, 409),
        sample("post", "/orders/{order_id}/cancel/", "/orders/999/cancel/", None, 404),
        // Reservation 1 is held, then taken by an order; reservation 2 is held and released.
        sample("post", "/reservations/", "/reservations/", Some(hold.clone()), 201),
        sample(
            "post",
            "/reservations/",
            "/reservations/",
            Some(json!({"store_id": 1, "items": [{"product_id": 3, "quantity": 1}]})),
            409,
        ),
        sample("post", "/reservations/", "/reservations/", Some(json!({"items": []})), 400),
        sample(
            "post",
            "/reservations/",
            "/reservations/",
            Some(json!({"store_id": 9, "items": [{"product_id": 1, "quantity": 1}]})),
            404,
        ),
        sample("get", "/reservations/{reservation_id}/", "/reservations/1/", None, 200),
        sample("get", "/reservations/{reservation_id}/", "/reservations/999/", None, 404),
        sample(
            "post",
            "/orders/",
            "/orders/",
            Some(json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}], "reservation_id": 1})),
            201,
        ),
        sample("delete", "/reservations/{reservation_id}/", "/reservations/1/", None, 409),
        sample("post", "/reservations/", "/reservations/", Some(hold), 201),
        sample("delete", "/reservations/{reservation_id}/", "/reservations/2/", None, 200),
        sample("delete", "/reservations/{reservation_id}/", "/reservations/999/", None, 404),
        sample("get", "/stores/{store_id}/orders/", "/stores/1/orders/?page_size=1", None, 200),
        sample("get", "/stores/{store_id}/orders/", "/stores/1/orders/?status=LOST", None, 400),
        sample("get", "/stores/{store_id}/inventory/", "/stores/1/inventory/?in_stock=true", None, 200),
        sample("get", "/stores/{store_id}/inventory/", "/stores/9/inventory/", None, 404),
        sample("get", "/api/search/products/", "/api/search/products/?q=kettle", None, 200),
        sample("get", "/api/search/products/", "/api/search/products/?store_id=1&sort=price&page_size=2", None, 200),
        sample("get", "/api/search/products/", "/api/search/products/?sort=cheapest", None, 400),
        sample("get", "/api/search/products/", "/api/search/products/?q=kettel&explain=true&highlight=true", None, 200),
        sample("get", "/api/search/suggest/", "/api/search/suggest/?q=kett", None, 200),
        sample("get", "/api/search/suggest/", "/api/search/suggest/?q=kett&queries=true", None, 200),
        sample("get", "/api/search/suggest/", "/api/search/suggest/?q=k", None, 400),
        sample("get", "/healthz", "/healthz", None, 200),
        sample("get", "/readyz", "/readyz", None, 200),
        sample("get", "/metrics", "/metrics", None, 200),
        sample("get", "/openapi.json", "/openapi.json", None, 200),
        sample("get", "/docs/", "/docs/", None, 200),
    ];
    samples.extend(key_samples());
    samples.extend(admin_samples());
    samples
}

/// The key routes, before the admin samples end the session (key 1 is created here).
fn key_samples() -> Vec<Sample> {
    let key = json!({"name": "storefront", "actions": ["search"], "store_ids": [1]});
    vec![
        sample("post", "/api/keys/", "/api/keys/", Some(key), 201),
        sample("post", "/api/keys/", "/api/keys/", Some(json!({"name": "x", "actions": ["fly"]})), 400),
        sample("get", "/api/keys/", "/api/keys/", None, 200),
        sample("get", "/api/keys/", "/api/keys/?page=9", None, 404),
        sample("get", "/api/keys/{id}/", "/api/keys/1/", None, 200),
        sample("get", "/api/keys/{id}/", "/api/keys/9/", None, 404),
        sample("patch", "/api/keys/{id}/", "/api/keys/1/", Some(json!({"name": "shop"})), 200),
        sample("patch", "/api/keys/{id}/", "/api/keys/1/", Some(json!({"actions": ["*"]})), 400),
        sample("patch", "/api/keys/{id}/", "/api/keys/9/", Some(json!({"name": "shop"})), 404),
        sample("delete", "/api/keys/{id}/", "/api/keys/1/", None, 204),
        sample("delete", "/api/keys/{id}/", "/api/keys/1/", None, 404),
    ]
}

/// The admin API on the small catalog (categories 1-2, products 1-5, stores 1-2; order 1
/// cancelled and order 2 rejected by the samples above): one request per route and outcome.
fn admin_samples() -> Vec<Sample> {
    let login = json!({"username": USERNAME, "password": PASSWORD});
    let wrong = json!({"username": "nobody", "password": "wrong"});
    let product = json!({"title": "Enamel Mug", "price": "9.90", "category_id": 1});
    let (category, store, stock) = ("/api/admin/categories/{id}/", "/api/admin/stores/{id}/", INVENTORY);
    let rule = json!({"query": "tea", "match": "contains", "pin": [{"product_id": 5, "position": 1}], "hide": [2],
                      "active_from": "2026-01-01T00:00:00Z", "active_until": null});
    let mut samples = vec![
        sample("post", "/api/admin/login/", "/api/admin/login/", Some(login), 200),
        sample("post", "/api/admin/login/", "/api/admin/login/", Some(json!({"username": "boss"})), 400),
    ];
    // The sixth attempt for one (username, address) within the window is refused.
    samples.extend((0..5).map(|_| sample("post", "/api/admin/login/", "/api/admin/login/", Some(wrong.clone()), 401)));
    samples.push(sample("post", "/api/admin/login/", "/api/admin/login/", Some(wrong), 429));
    samples.extend([
        sample("get", "/api/admin/categories/", "/api/admin/categories/?page_size=1", None, 200),
        Sample { token: false, ..sample("get", "/api/admin/categories/", "/api/admin/categories/", None, 401) },
        sample("get", "/api/admin/categories/", "/api/admin/categories/?page=9", None, 404),
        sample("get", "/api/admin/categories/", "/api/admin/categories/?page_size=0", None, 400),
        sample("post", "/api/admin/categories/", "/api/admin/categories/", Some(json!({"name": "Garden"})), 201),
        sample("post", "/api/admin/categories/", "/api/admin/categories/", Some(json!({"name": " "})), 400),
        sample("get", category, "/api/admin/categories/1/", None, 200),
        sample("get", category, "/api/admin/categories/999/", None, 404),
        sample("put", category, "/api/admin/categories/1/", Some(json!({"name": "Cooking"})), 200),
        sample("put", category, "/api/admin/categories/1/", Some(json!({"name": "outdoor"})), 400),
        sample("put", category, "/api/admin/categories/999/", Some(json!({"name": "Tools"})), 404),
        sample("delete", category, "/api/admin/categories/1/", None, 409),
        sample("delete", category, "/api/admin/categories/3/", None, 204),
        sample("delete", category, "/api/admin/categories/3/", None, 404),
        sample("get", "/api/admin/products/", "/api/admin/products/?q=kettle", None, 200),
        sample("get", "/api/admin/products/", "/api/admin/products/?page_size=x", None, 400),
        sample("get", "/api/admin/products/", "/api/admin/products/?page=9", None, 404),
        sample("post", "/api/admin/products/", "/api/admin/products/", Some(product.clone()), 201),
        sample("post", "/api/admin/products/", "/api/admin/products/", Some(json!({"price": 9.9})), 400),
        sample("get", "/api/admin/products/{id}/", "/api/admin/products/6/", None, 200),
        sample("get", "/api/admin/products/{id}/", "/api/admin/products/0/", None, 404),
        sample("put", "/api/admin/products/{id}/", "/api/admin/products/6/", Some(product.clone()), 200),
        sample("put", "/api/admin/products/{id}/", "/api/admin/products/6/", Some(json!({"title": "Mug"})), 400),
        sample("put", "/api/admin/products/{id}/", "/api/admin/products/999/", Some(product), 404),
        sample("delete", "/api/admin/products/{id}/", "/api/admin/products/1/", None, 409),
        sample("delete", "/api/admin/products/{id}/", "/api/admin/products/6/", None, 204),
        sample("delete", "/api/admin/products/{id}/", "/api/admin/products/6/", None, 404),
        sample("get", "/api/admin/stores/", "/api/admin/stores/", None, 200),
        sample("get", "/api/admin/stores/", "/api/admin/stores/?page=3", None, 404),
        sample("get", "/api/admin/stores/", "/api/admin/stores/?page=0", None, 400),
        sample(
            "post",
            "/api/admin/stores/",
            "/api/admin/stores/",
            Some(json!({"name": "Faro", "location": null})),
            201,
        ),
        sample("post", "/api/admin/stores/", "/api/admin/stores/", Some(json!({"location": "Faro"})), 400),
        sample("get", store, "/api/admin/stores/3/", None, 200),
        sample("get", store, "/api/admin/stores/x/", None, 404),
        sample("put", store, "/api/admin/stores/3/", Some(json!({"name": "Faro Sul", "location": "Faro"})), 200),
        sample("put", store, "/api/admin/stores/3/", Some(json!({"name": 3})), 400),
        sample("put", store, "/api/admin/stores/999/", Some(json!({"name": "Braga"})), 404),
        sample("delete", store, "/api/admin/stores/1/", None, 409),
        sample("delete", store, "/api/admin/stores/3/", None, 204),
        sample("delete", store, "/api/admin/stores/3/", None, 404),
        sample("put", stock, "/api/admin/stores/1/inventory/3/", Some(json!({"quantity": 4})), 200),
        sample("put", stock, "/api/admin/stores/1/inventory/3/", Some(json!({"quantity": -1})), 400),
        sample("put", stock, "/api/admin/stores/9/inventory/3/", Some(json!({"quantity": 4})), 404),
        sample("post", ADJUST, "/api/admin/stores/1/inventory/3/adjust/", Some(json!({"delta": -1})), 200),
        sample("post", ADJUST, "/api/admin/stores/1/inventory/3/adjust/", Some(json!({"delta": -100})), 409),
        sample("post", ADJUST, "/api/admin/stores/1/inventory/3/adjust/", Some(json!({"delta": "1"})), 400),
        sample("post", ADJUST, "/api/admin/stores/1/inventory/99/adjust/", Some(json!({"delta": 1})), 404),
        sample("post", RESTOCK, "/api/admin/stores/2/inventory/5/restock/", Some(json!({"quantity": 2})), 200),
        sample("post", RESTOCK, "/api/admin/stores/2/inventory/5/restock/", Some(json!({"quantity": 0})), 400),
        sample("post", RESTOCK, "/api/admin/stores/2/inventory/0/restock/", Some(json!({"quantity": 2})), 404),
        sample("put", stock, "/api/admin/stores/1/inventory/3/", Some(json!({"low_stock_threshold": 2})), 200),
        sample("put", stock, "/api/admin/stores/2/inventory/3/", Some(json!({"low_stock_threshold": 2})), 404),
        sample("get", MOVEMENTS, "/api/admin/stores/1/inventory/3/movements/?page_size=2", None, 200),
        sample("get", MOVEMENTS, "/api/admin/stores/1/inventory/3/movements/?page_size=0", None, 400),
        sample("get", MOVEMENTS, "/api/admin/stores/1/inventory/99/movements/", None, 404),
        sample("post", BULK, BULK, Some(json!({"rows": [{"store_id": 1, "product_id": 4, "delta": 1}]})), 200),
        sample(
            "post",
            BULK,
            BULK,
            Some(json!({"error_policy": "reject_failed_rows", "rows": [{"store_id": 9, "product_id": 4, "delta": 1}]})),
            200,
        ),
        sample("post", BULK, BULK, Some(json!({"rows": [{"store_id": 9, "product_id": 4, "delta": 1}]})), 400),
        sample("get", "/api/admin/orders/", "/api/admin/orders/?store=1&status=cancelled", None, 200),
        sample("get", "/api/admin/orders/", "/api/admin/orders/?store=0", None, 400),
        sample("get", "/api/admin/orders/", "/api/admin/orders/?page=5", None, 404),
        sample("post", CANCEL, "/api/admin/orders/1/cancel/", None, 200),
        sample("post", CANCEL, "/api/admin/orders/2/cancel/", None, 409),
        sample("post", CANCEL, "/api/admin/orders/999/cancel/", None, 404),
        sample("put", SET, "/api/admin/synonyms/knitwear/", Some(json!({"synonyms": ["sweater", "jumper"]})), 200),
        sample("put", SET, "/api/admin/synonyms/Knit/", Some(json!({"synonyms": ["sweater"]})), 400),
        sample("get", SET, "/api/admin/synonyms/knitwear/", None, 200),
        sample("get", SET, "/api/admin/synonyms/nope/", None, 404),
        sample("get", "/api/admin/synonyms/", "/api/admin/synonyms/", None, 200),
        sample("get", "/api/admin/synonyms/", "/api/admin/synonyms/?page=3", None, 404),
        sample("delete", SET, "/api/admin/synonyms/knitwear/", None, 204),
        sample("delete", SET, "/api/admin/synonyms/knitwear/", None, 404),
        sample("put", RULE, "/api/admin/search-rules/tea/", Some(rule), 200),
        sample("put", RULE, "/api/admin/search-rules/tea/", Some(json!({"query": "tea", "hide": [999]})), 400),
        sample("get", RULE, "/api/admin/search-rules/tea/", None, 200),
        sample("get", RULE, "/api/admin/search-rules/nope/", None, 404),
        sample("get", "/api/admin/search-rules/", "/api/admin/search-rules/", None, 200),
        sample("get", "/api/admin/search-rules/", "/api/admin/search-rules/?page_size=0", None, 400),
        sample("delete", RULE, "/api/admin/search-rules/tea/", None, 204),
        sample("delete", RULE, "/api/admin/search-rules/tea/", None, 404),
        sample("get", ANALYTICS, "/api/admin/search-analytics/?kind=popular&days=7", None, 200),
        sample("get", ANALYTICS, "/api/admin/search-analytics/?kind=no_results&days=90", None, 200),
        sample("get", ANALYTICS, "/api/admin/search-analytics/?days=91", None, 400),
        sample("get", ANALYTICS, "/api/admin/search-analytics/?page=3", None, 404),
        // Last: it ends the session the samples above use.
        sample("post", "/api/admin/logout/", "/api/admin/logout/", None, 204),
        sample("post", "/api/admin/logout/", "/api/admin/logout/", None, 401),
    ]);
    samples
}

const INVENTORY: &str = "/api/admin/stores/{store_id}/inventory/{product_id}/";
const ADJUST: &str = "/api/admin/stores/{store_id}/inventory/{product_id}/adjust/";
const RESTOCK: &str = "/api/admin/stores/{store_id}/inventory/{product_id}/restock/";
const CANCEL: &str = "/api/admin/orders/{order_id}/cancel/";
const SET: &str = "/api/admin/synonyms/{name}/";
const RULE: &str = "/api/admin/search-rules/{name}/";
const ANALYTICS: &str = "/api/admin/search-analytics/";
const MOVEMENTS: &str = "/api/admin/stores/{store_id}/inventory/{product_id}/movements/";
const BULK: &str = "/api/admin/stock/bulk/";

#[tokio::test]
async fn a_sample_response_of_every_route_matches_its_documented_schema() {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    app.state.suggest.wait_until_current().await;
    let token = login(&app, USERNAME, PASSWORD).await;
    let doc = openapi(&app).await;
    let samples = samples();
    let sampled: BTreeSet<(&str, &str)> = samples.iter().map(|sample| (sample.method, sample.template)).collect();
    for route in aforro::http::routes() {
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(sampled.contains(&(method.as_str(), route.path)), "no sample response for {method} {}", route.path);
    }

    for Sample { method, template, url, body, status, token: with_token } in samples {
        let mut request = app.client.request(method.to_ascii_uppercase().parse().expect("method"), app.url(url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if with_token {
            request = request.bearer_auth(&token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{method} {url}");
        let documented = &response_of(&doc, template, method, &status.to_string())["content"];
        let Some(content_type) = response.headers().get("content-type") else {
            assert!(documented.is_null(), "{method} {url}: {status} has no body but documents {documented}");
            continue;
        };
        let content_type = content_type.to_str().expect("ascii").to_owned();
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
