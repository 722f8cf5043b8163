//! The admin pages over plain HTTP, one behaviour each: lists search, filter, sort and page;
//! forms create, change and delete (with a confirmation, and a refusal the data explains);
//! every change lands in the object's history. (`admin_browser` clicks through the same pages
//! in headless Chromium.)

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

use aforro::domain::PageRequest;
use aforro::domain::admin_list::{ProductList, ProductSort, Sort};

use crate::admin_support::{AdminApp, spawn_admin_app};
use crate::admin_web::{client, csrf_of, log_in, page, post_form};

/// Signed in: the cookie and a form token.
async fn signed_in(admin: &AdminApp) -> (String, String) {
    let cookie = log_in(admin).await;
    let csrf = csrf_of(&page(admin, &cookie, "/admin/").await);
    (cookie, csrf)
}

/// The product ids of an inventory page's rows, in order.
fn inventory_rows(html: &str) -> Vec<String> {
    html.split("<tr id=\"product-")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id.to_owned()))
        .collect()
}

/// The product links of a list page, in order.
fn product_links(html: &str) -> Vec<String> {
    html.split("href=\"/admin/products/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/\">").map(|(id, _)| id.to_owned()))
        .filter(|id| id.parse::<i64>().is_ok())
        .collect()
}

#[tokio::test]
async fn every_section_has_a_page_behind_the_navigation() {
    let admin = spawn_admin_app().await;
    let (cookie, _) = signed_in(&admin).await;
    let dashboard = page(&admin, &cookie, "/admin/").await;
    for path in [
        "/admin/products/",
        "/admin/categories/",
        "/admin/stores/",
        "/admin/orders/",
        "/admin/stock/bulk/",
        "/admin/jobs/",
        "/admin/accounts/",
        "/admin/stores/1/inventory/",
        "/admin/categories/1/",
        "/admin/stores/1/",
    ] {
        let html = page(&admin, &cookie, path).await;
        assert!(html.contains("<label"), "{path} labels its controls");
        assert!(html.contains("name=\"viewport\""), "{path} is readable at phone width");
        if path.matches('/').count() == 3 {
            assert!(dashboard.contains(&format!("href=\"{path}\"")), "the navigation links {path}");
        }
    }
    admin.shutdown().await;
}

#[tokio::test]
async fn the_product_list_searches_filters_sorts_and_pages() {
    let admin = spawn_admin_app().await;
    let (cookie, _) = signed_in(&admin).await;

    assert_eq!(product_links(&page(&admin, &cookie, "/admin/products/?q=TENT").await), ["3"]);
    assert_eq!(product_links(&page(&admin, &cookie, "/admin/products/?category=2").await), ["3", "4"]);
    let by_price = page(&admin, &cookie, "/admin/products/?sort=-price").await;
    assert_eq!(product_links(&by_price), ["3", "1", "4", "2", "5"]);
    assert!(by_price.contains("aria-sort=\"descending\""));
    let by_title = page(&admin, &cookie, "/admin/products/?sort=title").await;
    assert_eq!(product_links(&by_title), ["5", "2", "3", "4", "1"], "case-insensitive title order");

    let first = page(&admin, &cookie, "/admin/products/?sort=price&page_size=2").await;
    assert_eq!(product_links(&first), ["5", "2"]);
    assert!(first.contains("5 found · page 1") && first.contains("id=\"next\""));
    let second = page(&admin, &cookie, "/admin/products/?sort=price&page_size=2&page=2").await;
    assert_eq!(product_links(&second), ["4", "1"]);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_title_search_pages_without_counting() {
    let admin = spawn_admin_app().await;
    let (cookie, _) = signed_in(&admin).await;

    let first = page(&admin, &cookie, "/admin/products/?q=a&page_size=2").await;
    assert_eq!(product_links(&first), ["2", "3"]);
    assert!(first.contains("id=\"next\"") && !first.contains("found"), "a next page, no count");
    let last = page(&admin, &cookie, "/admin/products/?q=a&page_size=2&page=2").await;
    assert_eq!(product_links(&last), ["4", "5"]);
    assert!(!last.contains("id=\"next\""), "nothing after the last match");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_title_search_from_the_search_title_order_filters_sorts_and_pages_alike() {
    let admin = spawn_admin_app().await;
    let (cookie, _) = signed_in(&admin).await;
    let search = admin.app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("join").expect("title order");
    let sort = Sort { key: ProductSort::Id, descending: false };
    let search_a = ProductList { q: Some("a".to_owned()), category: None, sort, page: PageRequest::default() };
    assert!(admin.app.state.search.admin_product_search(&search_a, 10).is_some(), "the title order is ready");

    let links = async |path: &str| product_links(&page(&admin, &cookie, path).await);
    assert_eq!(links("/admin/products/?q=TENT").await, ["3"]);
    assert_eq!(links("/admin/products/?q=a&category=1&sort=price").await, ["5", "2"]);
    assert_eq!(links("/admin/products/?q=a&category=1&sort=-price").await, ["2", "5"]);
    assert_eq!(links("/admin/products/?q=a&sort=title").await, ["5", "2", "3", "4"]);
    assert_eq!(links("/admin/products/?q=a&sort=-id&page_size=2&page=2").await, ["3", "2"]);
    let nothing = page(&admin, &cookie, "/admin/products/?q=zzqx").await;
    assert!(product_links(&nothing).is_empty() && nothing.contains("No product matches."));

    // Store 1 holds products 1-5 at 10, 3, 0, 5 and 1; "a" is in the titles of 2, 3, 4 and 5.
    let rows = async |path: &str| inventory_rows(&page(&admin, &cookie, path).await);
    assert_eq!(rows("/admin/stores/1/inventory/?q=A&sort=quantity").await, ["3", "5", "2", "4"]);
    assert_eq!(rows("/admin/stores/1/inventory/?q=a&sort=-product&page_size=3&page=2").await, ["2"]);
    assert_eq!(rows("/admin/stores/1/inventory/?q=a&in_stock=false").await, ["3"]);
    let counted = page(&admin, &cookie, "/admin/stores/1/inventory/?q=a&in_stock=true").await;
    assert!(counted.contains("3 found"), "an exact count");
    assert_eq!(rows("/admin/stores/2/inventory/?q=a").await, Vec::<String>::new());
    admin.shutdown().await;
}

#[tokio::test]
async fn a_sort_no_index_serves_is_refused_with_400() {
    let admin = spawn_admin_app().await;
    let (cookie, _) = signed_in(&admin).await;
    let response = client()
        .get(admin.app.url("/admin/products/?sort=description"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.expect("html").contains("sort"));
    admin.shutdown().await;
}

#[tokio::test]
async fn creating_a_product_redirects_to_its_page_with_a_create_entry() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Enamel Mug"),
        ("description", "blue"),
        ("price", "9.90"),
        ("category_id", "1"),
    ];

    let response = post_form(&admin, Some(&cookie), "/admin/products/new/", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    assert_eq!(location, "/admin/products/6/");
    let html = page(&admin, &cookie, &location).await;
    assert!(html.contains("id=\"history\"") && html.contains(">create<") && html.contains("Enamel Mug"));
    assert_eq!(admin.search_ids("q=enamel").await, [6]);
    admin.shutdown().await;
}

#[tokio::test]
async fn an_invalid_new_product_names_each_field_and_stores_nothing() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let form = [("csrf", csrf.as_str()), ("title", " "), ("price", "-1"), ("category_id", "1")];

    let response = post_form(&admin, Some(&cookie), "/admin/products/new/", &form).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.expect("html");
    assert!(html.contains("id=\"title-error\"") && html.contains("id=\"price-error\""), "{html}");
    assert_eq!(admin.app.count("products"), 5);
    admin.shutdown().await;
}

#[tokio::test]
async fn an_edit_shows_who_changed_what_before_and_after_in_the_history() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Headlamp"),
        ("description", "bright"),
        ("price", "24.00"),
        ("category_id", "2"),
    ];

    post_form(&admin, Some(&cookie), "/admin/products/4/", &form).await;

    let html = page(&admin, &cookie, "/admin/products/4/").await;
    let history = &html[html.find("id=\"history\"").expect("a history table")..];
    assert!(history.contains(">boss<") && history.contains(">change<"), "who and what");
    assert!(history.contains("<strong>price</strong>: <del>19.99</del> → <ins>24.00</ins>"), "{history}");
    assert!(!history.contains("<strong>title</strong>"), "unchanged fields are not listed");
    let entries: i64 = admin.app.db().query_row("SELECT COUNT(*) FROM admin_log", [], |row| row.get(0)).expect("count");
    assert_eq!(entries, 1);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_change_through_the_api_is_recorded_too() {
    let admin = spawn_admin_app().await;
    let body = json!({"name": "Garden"});
    admin.call(reqwest::Method::PUT, "/api/admin/categories/2/", Some(body), StatusCode::OK).await;
    let (cookie, _) = signed_in(&admin).await;
    let html = page(&admin, &cookie, "/admin/categories/2/").await;
    assert!(html.contains("<del>Outdoor</del> → <ins>Garden</ins>"), "{html}");
    admin.shutdown().await;
}

#[tokio::test]
async fn deleting_asks_first_then_deletes_with_a_history_entry() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;

    let confirm = page(&admin, &cookie, "/admin/products/5/delete/").await;
    assert!(confirm.contains("Atlas Mug") && confirm.contains("id=\"confirm-delete\""));
    assert_eq!(admin.app.count("products"), 5, "asking deletes nothing");

    let response = post_form(&admin, Some(&cookie), "/admin/products/5/delete/", &[("csrf", &csrf)]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.app.count("products"), 4);
    let action: String = admin
        .app
        .db()
        .query_row("SELECT action FROM admin_log WHERE object_type = 'product' AND object_id = 5", [], |row| row.get(0))
        .expect("an entry");
    assert_eq!(action, "delete");
    admin.shutdown().await;
}

#[tokio::test]
async fn deleting_a_product_an_order_names_explains_why_not_and_keeps_it() {
    let admin = spawn_admin_app().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    assert_eq!(admin.app.post_order(&order).await.status(), StatusCode::CREATED);
    let (cookie, csrf) = signed_in(&admin).await;

    let response = post_form(&admin, Some(&cookie), "/admin/products/1/delete/", &[("csrf", &csrf)]).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.expect("html").contains("appears in orders"));
    assert_eq!(admin.app.count("products"), 5);
    assert_eq!(admin.app.count("admin_log"), 0, "no change, no entry");
    admin.shutdown().await;
}

#[tokio::test]
async fn categories_and_stores_are_created_renamed_and_refuse_a_delete_the_data_forbids() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;

    let created =
        post_form(&admin, Some(&cookie), "/admin/categories/new/", &[("csrf", &csrf), ("name", "Garden")]).await;
    assert_eq!(created.headers()[LOCATION], "/admin/categories/3/");
    let duplicate =
        post_form(&admin, Some(&cookie), "/admin/categories/new/", &[("csrf", &csrf), ("name", "garden")]).await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    assert!(duplicate.text().await.expect("html").contains("id=\"name-error\""));
    let used = post_form(&admin, Some(&cookie), "/admin/categories/1/delete/", &[("csrf", &csrf)]).await;
    assert_eq!(used.status(), StatusCode::CONFLICT);
    assert!(used.text().await.expect("html").contains("used by 3 products"));

    let form = [("csrf", csrf.as_str()), ("name", "Lisbon Baixa"), ("location", "Lisbon")];
    let renamed = post_form(&admin, Some(&cookie), "/admin/stores/1/", &form).await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let list = page(&admin, &cookie, "/admin/stores/?q=baixa").await;
    assert!(list.contains("Lisbon Baixa") && !list.contains("Porto Market"));
    admin.shutdown().await;
}

#[tokio::test]
async fn a_store_inventory_sets_quantities_in_place_and_sorts_by_quantity() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let low_first = page(&admin, &cookie, "/admin/stores/1/inventory/?sort=quantity").await;
    assert_eq!(product_links(&low_first), ["3", "5", "2", "4", "1"]);

    let back = "/admin/stores/1/inventory/?sort=quantity";
    let form = [("csrf", csrf.as_str()), ("quantity", "40"), ("back", back)];
    let response = post_form(&admin, Some(&cookie), "/admin/stores/1/inventory/3/", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], back, "back to the same list");
    assert_eq!(admin.app.stock(1, 3), 40);
    let bad = [("csrf", csrf.as_str()), ("quantity", "-2"), ("back", back)];
    let refused = post_form(&admin, Some(&cookie), "/admin/stores/1/inventory/3/", &bad).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("html").contains("id=\"quantity-3-error\""));
    assert_eq!(admin.app.stock(1, 3), 40);
    let history = page(&admin, &cookie, "/admin/products/3/").await;
    assert!(history.contains("stock at Lisbon Central (store 1)") && history.contains("<del>0</del> → <ins>40</ins>"));
    admin.shutdown().await;
}

#[tokio::test]
async fn orders_filter_by_store_status_and_day_and_show_their_lines() {
    let admin = spawn_admin_app().await;
    for (store, product) in [(1, 1), (2, 1), (1, 3)] {
        let order = json!({"store_id": store, "items": [{"product_id": product, "quantity_requested": 1}]});
        admin.app.post_order(&order).await;
    }
    let (cookie, _) = signed_in(&admin).await;
    let order_links = |html: &str| html.matches("href=\"/admin/orders/").count() - 1;

    assert_eq!(order_links(&page(&admin, &cookie, "/admin/orders/").await), 3);
    assert_eq!(order_links(&page(&admin, &cookie, "/admin/orders/?store=1").await), 2);
    assert_eq!(order_links(&page(&admin, &cookie, "/admin/orders/?status=REJECTED").await), 1, "store 1 has no tent");
    assert_eq!(order_links(&page(&admin, &cookie, "/admin/orders/?to=2000-01-01").await), 0);
    let detail = page(&admin, &cookie, "/admin/orders/1/").await;
    assert!(
        detail.contains("Steel Kettle")
            && detail.contains("id=\"confirmation\"")
            && detail.contains("id=\"order-events\"")
    );
    admin.shutdown().await;
}

#[tokio::test]
async fn a_failed_job_is_retried_from_the_jobs_page() {
    let admin = spawn_admin_app().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    admin.app.post_order(&order).await;
    // Let the workers finish with the job first, so none of them overwrites the failure below
    // (a bounded poll: the worker runs on its own task).
    let job_state = || -> String {
        admin.app.db().query_row("SELECT state FROM jobs WHERE id = 1", [], |row| row.get(0)).expect("job")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while job_state() != "done" {
        assert!(std::time::Instant::now() < deadline, "the confirmation was never sent");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    admin.app.db().execute("UPDATE jobs SET state = 'failed', last_error = 'smtp down'", []).expect("fail the job");
    let (cookie, csrf) = signed_in(&admin).await;
    assert!(page(&admin, &cookie, "/admin/jobs/?state=failed").await.contains("smtp down"));

    let response = post_form(&admin, Some(&cookie), "/admin/jobs/1/retry/", &[("csrf", &csrf)]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let state: String =
        admin.app.db().query_row("SELECT state FROM jobs WHERE id = 1", [], |row| row.get(0)).expect("job");
    assert_ne!(state, "failed");
    admin.shutdown().await;
}

#[tokio::test]
async fn changing_your_password_needs_the_current_one_and_signs_out_other_sessions() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let wrong = [
        ("csrf", csrf.as_str()),
        ("current_password", "nope"),
        ("new_password", "another long one"),
        ("new_password_again", "another long one"),
    ];
    let refused = post_form(&admin, Some(&cookie), "/admin/accounts/password/", &wrong).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("html").contains("id=\"current_password-error\""));

    let form = [
        ("csrf", csrf.as_str()),
        ("current_password", crate::admin_support::PASSWORD),
        ("new_password", "another long one"),
        ("new_password_again", "another long one"),
    ];
    let response = post_form(&admin, Some(&cookie), "/admin/accounts/password/", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    assert!(page(&admin, &cookie, &location).await.contains("Password changed"), "this session lives on");
    let api = admin.send(reqwest::Method::GET, "/api/admin/categories/", None).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED, "the API token's session ended");
    admin.shutdown().await;
}
