//! The admin pages of the stock ledger: an inventory row's threshold set from its form (in
//! the product's history), the row's movements page, the store's "Low stock" list, and the
//! bulk CSV upload with its per-row result (multipart, with the CSRF field like every form).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};

use crate::admin_support::{AdminApp, spawn_admin_app};
use crate::admin_web::{client, csrf_of, log_in, page, post_form};

async fn signed_in(admin: &AdminApp) -> (String, String) {
    let cookie = log_in(admin).await;
    let csrf = csrf_of(&page(admin, &cookie, "/admin/").await);
    (cookie, csrf)
}

#[tokio::test]
async fn a_row_s_threshold_and_quantity_are_set_in_place_and_its_movements_listed() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let form = [("csrf", csrf.as_str()), ("quantity", "4"), ("low_stock_threshold", "6")];

    let response = post_form(&admin, Some(&cookie), "/admin/stores/1/inventory/1/", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.app.stock(1, 1), 4);
    let row = page(&admin, &cookie, "/admin/stores/1/inventory/1/").await;
    assert!(row.contains("On hand: <strong>4</strong>") && row.contains("low at or below <strong>6</strong>"), "{row}");
    let movements = &row[row.find("id=\"movements\"").expect("a movements table")..];
    assert!(movements.contains("<td class=\"num\">-6</td>") && movements.contains("admin:boss"), "{movements}");
    let product = page(&admin, &cookie, "/admin/products/1/").await;
    let history = &product[product.find("id=\"history\"").expect("a history table")..];
    assert!(history.contains("low stock threshold at store 1"), "the threshold change is in the history");

    let bad = [("csrf", csrf.as_str()), ("quantity", "4"), ("low_stock_threshold", "-1")];
    let refused = post_form(&admin, Some(&cookie), "/admin/stores/1/inventory/1/", &bad).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("html").contains("low-stock threshold must be"));

    // Store 1 now: 1 → 4 (low at 6), 2 → 3, 3 → 0, 4 → 5, 5 → 1 (low at 5).
    let low = page(&admin, &cookie, "/admin/stores/1/low-stock/").await;
    let listed: Vec<&str> =
        low.split("<tr id=\"product-").skip(1).filter_map(|rest| rest.split_once('"').map(|(id, _)| id)).collect();
    assert_eq!(listed, ["5", "2", "3", "4", "1"], "by title");
    let missing = client()
        .get(admin.app.url("/admin/stores/1/inventory/99/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    admin.shutdown().await;
}

/// A multipart upload as a browser sends the form.
async fn upload(admin: &AdminApp, cookie: &str, csrf: &str, policy: &str, csv: &str) -> reqwest::Response {
    let boundary = "----aforro-test-boundary";
    let part = |name: &str, extra: &str, value: &str| {
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n")
    };
    let body = [
        part("csrf", "", csrf),
        part("error_policy", "", policy),
        part("file", "; filename=\"stock.csv\"\r\nContent-Type: text/csv", csv),
        format!("--{boundary}--\r\n"),
    ]
    .concat();
    client()
        .post(admin.app.url("/admin/stock/bulk/"))
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_csv_upload_applies_its_rows_and_shows_each_failure() {
    let admin = spawn_admin_app().await;
    let (cookie, csrf) = signed_in(&admin).await;
    let form = page(&admin, &cookie, "/admin/stock/bulk/").await;
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("name=\"csrf\""));

    let applied =
        upload(&admin, &cookie, &csrf, "reject_failed_rows", "store_id,product_id,delta\n1,1,5\n1,99,1\n2,1,-1\n")
            .await;

    assert_eq!(applied.status(), StatusCode::OK);
    let html = applied.text().await.expect("html");
    assert!(html.contains("Applied 2 rows; 1 failed."), "{html}");
    assert!(html.contains("rows[1].product_id") && html.contains("product 99 does not exist"));
    assert_eq!((admin.app.stock(1, 1), admin.app.stock(2, 1)), (15, 6));
    let product = page(&admin, &cookie, "/admin/products/1/").await;
    let history = &product[product.find("id=\"history\"").expect("a history table")..];
    assert!(history.contains("stock at Porto Market (store 2)"), "each changed row is in its product's history");

    let refused =
        upload(&admin, &cookie, &csrf, "reject_everything", "store_id,product_id,quantity\n1,1,2\n9,1,1\n").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("html").contains("Nothing applied"));
    assert_eq!(admin.app.stock(1, 1), 15, "nothing of the refused file applied");
    let bad_header = upload(&admin, &cookie, &csrf, "reject_everything", "a,b,c\n1,1,1\n").await;
    assert_eq!(bad_header.status(), StatusCode::BAD_REQUEST);

    let forged =
        upload(&admin, &cookie, "0".repeat(64).as_str(), "reject_everything", "store_id,product_id,delta\n1,1,1\n")
            .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST, "a form without its CSRF token is refused");
    assert_eq!(admin.app.stock(1, 1), 15);
    admin.shutdown().await;
}
