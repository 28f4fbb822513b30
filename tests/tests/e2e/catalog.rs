//! Catalog import and search over real HTTP: real retailer files, malformed and hostile
//! files, partial imports, re-imports and who may import.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vitrine_engine::commerce::import::{parse_shopify_csv, ImportOptions};
use vitrine_tests::http::{Answer, Api};
use vitrine_tests::node::TestNode;

use crate::http_api::{assert_error, encode};

/// The columns of the small files these tests write.
const HEADER: &str = "Handle,Title,Body (HTML),Vendor,Type,Tags,Option1 Name,Option1 Value,\
                      Variant SKU,Variant Inventory Qty,Variant Price,Status";

/// One variant of a product in a test file: option value, SKU, price.
type VariantRow<'a> = (&'a str, &'a str, &'a str);

/// A CSV field, quoted when it needs to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The rows of one product: the first carries the product fields, every row a variant.
fn product(handle: &str, title: &str, variants: &[VariantRow<'_>]) -> String {
    product_with_body(handle, title, "", variants)
}

fn product_with_body(handle: &str, title: &str, body: &str, variants: &[VariantRow<'_>]) -> String {
    let mut rows = String::new();
    for (index, (option, sku, price)) in variants.iter().enumerate() {
        let fields: Vec<String> = if index == 0 {
            vec![
                field(handle),
                field(title),
                field(body),
                "Testwerk".into(),
                "Probe".into(),
                field("Probe, Test Suite"),
                "Size".into(),
                field(option),
                field(sku),
                "5".into(),
                field(price),
                "active".into(),
            ]
        } else {
            vec![
                field(handle),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                field(option),
                field(sku),
                "5".into(),
                field(price),
                String::new(),
            ]
        };
        rows.push_str(&fields.join(","));
        rows.push('\n');
    }
    rows
}

/// A whole file: the header and the given products.
fn csv(products: &[String]) -> Vec<u8> {
    let mut text = format!("{HEADER}\n");
    for p in products {
        text.push_str(p);
    }
    text.into_bytes()
}

async fn import(node: &TestNode, query: &str, body: Vec<u8>) -> Answer {
    node.api
        .post_raw(
            &format!("/v1/catalog/import{query}"),
            node.admin(),
            "text/csv",
            body,
        )
        .await
}

/// The cards a search returns.
async fn search(api: &Api, token: &str, q: &str) -> Vec<Value> {
    let found = api
        .get(
            &format!("/v1/catalog/products?q={}&limit=50", encode(q)),
            token,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    found.body["products"]
        .as_array()
        .expect("a list of products")
        .clone()
}

/// Every active product (the catalogs here stay under the page size of 50).
async fn whole_catalog(node: &TestNode) -> Vec<Value> {
    let all = search(&node.api, node.admin(), "").await;
    assert!(
        all.len() < 50,
        "the catalog outgrew one page: {}",
        all.len()
    );
    all
}

fn ids(cards: &[Value]) -> Vec<String> {
    cards
        .iter()
        .map(|c| c["product_id"].as_str().unwrap().to_owned())
        .collect()
}

fn variant_ids(card: &Value) -> Vec<String> {
    card["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["variant_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Imports a file that must be refused whole, and checks that the catalog did not change
/// and that the file's product is nowhere to be found.
async fn refused_without_change(
    node: &TestNode,
    content_type: &str,
    body: Vec<u8>,
    absent_title: &str,
) -> Answer {
    let before = whole_catalog(node).await;
    let answer = node
        .api
        .post_raw("/v1/catalog/import", node.admin(), content_type, body)
        .await;
    assert!(
        answer.status.is_client_error(),
        "{} {:?}",
        answer.status,
        answer.body
    );
    assert_eq!(whole_catalog(node).await, before, "the catalog changed");
    assert!(
        search(&node.api, node.admin(), absent_title)
            .await
            .is_empty(),
        "{absent_title} was imported"
    );
    answer
}

/// Each real retailer export in the shared folder imports with the expected counts and
/// no errors, and every product in it can then be found by its title with all its
/// variants.
#[actix_web::test]
async fn every_shared_catalog_imports_whole_and_becomes_searchable() {
    let Some(dir) = vitrine_tests::shared_catalogs() else {
        eprintln!("note: no shared catalogs folder beside the project; nothing to import");
        return;
    };
    let expected = [
        ("products-bold.csv", 14, 42),
        ("products-default.csv", 18, 38),
        ("products-edge.csv", 18, 37),
        ("products-noir.csv", 18, 41),
    ];
    for (name, products, variants) in expected {
        // Arrange: a fresh node and the file.
        let node = TestNode::start().await;
        let bytes = std::fs::read(dir.join(name)).expect("read the shared catalog");
        let parsed = parse_shopify_csv(&bytes, &ImportOptions::new("USD")).expect("it parses");

        // Act.
        let answer = import(&node, "", bytes).await;

        // Assert: the counts, then each product through search.
        assert_eq!(answer.status, StatusCode::OK, "{name}: {:?}", answer.body);
        assert_eq!(
            answer.body["products"], products,
            "{name}: {:?}",
            answer.body
        );
        assert_eq!(
            answer.body["variants"], variants,
            "{name}: {:?}",
            answer.body
        );
        assert_eq!(answer.body["errors"], json!([]), "{name}");
        assert_eq!(parsed.products.len(), products, "{name}");

        for p in &parsed.products {
            let found = search(&node.api, node.admin(), &p.title).await;
            let card = found
                .iter()
                .find(|c| c["product_id"] == p.id.as_str())
                .unwrap_or_else(|| panic!("{name}: {} not found by its title", p.id));
            assert_eq!(card["title"], p.title.as_str(), "{name}");
            let expected: Vec<String> = p.variants.iter().map(|v| v.id.to_string()).collect();
            let mut got = variant_ids(card);
            let mut want = expected.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name}: variants of {}", p.id);
            assert_eq!(card["price"]["currency"], "USD");
        }
    }
}

/// A header without a required column is refused as a whole, pointing at line 1 and
/// naming the column.
#[actix_web::test]
async fn a_file_missing_a_required_column_is_refused_at_line_one() {
    // Arrange.
    let node = TestNode::start().await;
    let body = b"Handle,Title,Variant SKU\nlost-lantern,Lost Lantern,LL-1\n".to_vec();

    // Act.
    let answer = refused_without_change(&node, "text/csv", body, "Lost Lantern").await;

    // Assert.
    assert_error(&answer, 422, "invalid");
    assert_eq!(answer.body["errors"][0]["line"], 1, "{:?}", answer.body);
    let message = answer.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Variant Price"), "{message}");
    assert_eq!(answer.body["products"], 0);
}

/// A bad price is reported on the exact line it is on, even behind a description that
/// spans several lines, with either line ending; nothing of the file is imported.
#[actix_web::test]
async fn a_bad_price_is_reported_on_its_exact_line_and_nothing_is_imported() {
    let node = TestNode::start().await;
    for ending in ["\n", "\r\n"] {
        // Arrange: line 1 header; lines 2-4 the first product's row (a description over
        // three lines); line 5 its second variant; line 6 the next product; line 7 the
        // bad price.
        let first = product_with_body(
            "quiet-kettle",
            "Quiet Kettle",
            "<p>Line one</p>\n<p>Line two</p>\n<p>Line three</p>",
            &[("S", "QK-S", "49.00"), ("M", "QK-M", "59.00")],
        );
        let second = product(
            "sturdy-teapot",
            "Sturdy Teapot",
            &[("S", "ST-S", "25.00"), ("M", "ST-M", "twelve")],
        );
        // Inside the quoted description a CRLF is one line break too.
        let text = String::from_utf8(csv(&[first, second]))
            .unwrap()
            .replace('\n', ending);

        // Act.
        let answer =
            refused_without_change(&node, "text/csv", text.into_bytes(), "Sturdy Teapot").await;

        // Assert.
        assert_error(&answer, 422, "invalid");
        let errors = answer.body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["line"], 7, "{ending:?}: {errors:?}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains("Variant Price"), "{message}");
        assert!(message.contains("twelve"), "{message}");
        assert!(
            search(&node.api, node.admin(), "Quiet Kettle")
                .await
                .is_empty(),
            "the good product of a refused file was imported"
        );
    }
}

/// Two rows with the same option values are one variant listed twice: refused, on the
/// line of the repeat.
#[actix_web::test]
async fn a_duplicate_variant_is_refused_on_the_line_of_the_repeat() {
    // Arrange.
    let node = TestNode::start().await;
    let body = csv(&[product(
        "twin-socks",
        "Twin Socks",
        &[
            ("M", "TS-M-1", "9.00"),
            ("L", "TS-L", "9.00"),
            ("M", "TS-M-2", "9.00"),
        ],
    )]);

    // Act.
    let answer = refused_without_change(&node, "text/csv", body, "Twin Socks").await;

    // Assert.
    assert_error(&answer, 422, "invalid");
    let errors = answer.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 4);
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("duplicate variant"), "{message}");
    assert!(message.contains("line 2"), "{message}");
}

/// A SKU that the catalog has on another product is not taken from that product unless
/// the file lists that product too; the refusal names the line and the owner.
#[actix_web::test]
async fn a_sku_of_another_product_moves_only_when_both_products_are_in_the_file() {
    // Arrange: a mug with SKU MUG-BLUE.
    let node = TestNode::start().await;
    let mug = product(
        "taza-azul",
        "Taza Azul ☕",
        &[("Azul", "MUG-BLUE", "12.00")],
    );
    let first = import(&node, "", csv(&[mug])).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);

    // Act: a file whose only other product claims MUG-BLUE.
    let thief = product(
        "cuenco",
        "Cuenco",
        &[("Azul", "BOWL-1", "8.00"), ("Grande", "MUG-BLUE", "9.00")],
    );
    let plate = product("plato", "Plato", &[("Único", "PLATE-1", "7.00")]);
    let refused = import(&node, "", csv(&[plate.clone(), thief.clone()])).await;
    let partial = import(&node, "?partial=true", csv(&[plate.clone(), thief.clone()])).await;

    // Assert: refused whole, then with `partial` everything but the claiming product.
    assert_error(&refused, 422, "invalid");
    let errors = refused.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 4, "the line of the MUG-BLUE row");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("MUG-BLUE") && message.contains("taza-azul"),
        "{message}"
    );
    assert_eq!(partial.status, StatusCode::OK, "{:?}", partial.body);
    assert_eq!(partial.body["products"], 1, "{:?}", partial.body);
    assert_eq!(partial.body["errors"].as_array().unwrap().len(), 1);
    let mugs = search(&node.api, node.admin(), "Taza Azul").await;
    assert_eq!(variant_ids(&mugs[0]), ["MUG-BLUE"], "the mug kept its SKU");
    assert!(search(&node.api, node.admin(), "Cuenco").await.is_empty());

    // Act and assert: with both products in one file, the SKU moves.
    let mug_without = product("taza-azul", "Taza Azul ☕", &[("Roja", "MUG-RED", "12.00")]);
    let moved = import(&node, "", csv(&[mug_without, thief])).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let bowls = search(&node.api, node.admin(), "Cuenco").await;
    assert_eq!(variant_ids(&bowls[0]), ["BOWL-1", "MUG-BLUE"]);
    let mugs = search(&node.api, node.admin(), "Taza Azul").await;
    assert_eq!(variant_ids(&mugs[0]), ["MUG-RED"]);
}

/// A 10 MB upload is refused with 413 `too_large` and changes nothing.
#[actix_web::test]
async fn a_ten_megabyte_file_is_refused_as_too_large() {
    // Arrange: a valid header and product, padded with comment-free filler rows.
    let node = TestNode::start().await;
    let mut body = csv(&[product("huge-hat", "Huge Hat", &[("M", "HH-M", "10.00")])]);
    let filler = ",,,,,,,,,,,\n";
    while body.len() < 10 * 1024 * 1024 {
        body.extend_from_slice(filler.as_bytes());
    }

    // Act.
    let answer = refused_without_change(&node, "text/csv", body, "Huge Hat").await;

    // Assert.
    assert_error(&answer, 413, "too_large");
}

/// Bytes that are not UTF-8 are refused with the line they are on.
#[actix_web::test]
async fn a_file_that_is_not_utf8_is_refused_with_its_line() {
    // Arrange: line 3 holds a Latin-1 "é".
    let node = TestNode::start().await;
    let mut body = csv(&[product("plain-cup", "Plain Cup", &[("M", "PC-M", "5.00")])]);
    body.extend_from_slice(b"latin-cafe,Caf\xe9 Cup,,Testwerk,Probe,,Size,M,LC-M,5,5.00,active\n");

    // Act.
    let answer = refused_without_change(&node, "text/csv", body, "Plain Cup").await;

    // Assert.
    assert_error(&answer, 422, "invalid");
    assert_eq!(answer.body["errors"][0]["line"], 3, "{:?}", answer.body);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("UTF-8"), "{message}");
}

/// An empty body, or one of blank lines only, is refused as empty.
#[actix_web::test]
async fn an_empty_file_is_refused() {
    let node = TestNode::start().await;
    for body in [Vec::new(), b"\n\r\n   \n".to_vec()] {
        // Act.
        let answer = refused_without_change(&node, "text/csv", body, "anything").await;

        // Assert.
        assert_error(&answer, 422, "invalid");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("empty"), "{message}");
    }
}

/// A catalog sent as JSON or as a form is refused before it is read.
#[actix_web::test]
async fn a_file_sent_with_the_wrong_content_type_is_refused() {
    let node = TestNode::start().await;
    for content_type in [
        "application/json",
        "multipart/form-data; boundary=x",
        "image/png",
    ] {
        // Arrange: a perfectly good file.
        let body = csv(&[product(
            "typed-tray",
            "Typed Tray",
            &[("M", "TT-M", "5.00")],
        )]);

        // Act.
        let answer = refused_without_change(&node, content_type, body, "Typed Tray").await;

        // Assert.
        assert_error(&answer, 400, "invalid");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("text/csv"), "{message}");
    }
}

/// An import query that is not understood is refused before anything is read.
#[actix_web::test]
async fn an_unreadable_import_query_is_refused() {
    // Arrange.
    let node = TestNode::start().await;
    let before = whole_catalog(&node).await;
    let body = csv(&[product(
        "query-quilt",
        "Query Quilt",
        &[("M", "QQ-M", "5.00")],
    )]);

    // Act.
    let answer = import(&node, "?partial=sometimes", body).await;

    // Assert.
    assert_error(&answer, 400, "invalid");
    assert_eq!(whole_catalog(&node).await, before);
}

/// Search narrows by collection (slugs in any script), bounds its limit, and needs a
/// staff token.
#[actix_web::test]
async fn catalog_search_filters_by_collection_and_bounds_its_limit() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (_, customer) = api.widget_session("pk_demo", "Ada").await;

    // Act.
    let handmade = api
        .get(
            &format!(
                "/v1/catalog/products?collection={}",
                encode("fait-à-la-main")
            ),
            node.admin(),
        )
        .await;
    let watches = api
        .get(
            "/v1/catalog/products?collection=watches&limit=50",
            node.admin(),
        )
        .await;
    let two = api.get("/v1/catalog/products?limit=2", node.admin()).await;

    // Assert.
    assert_eq!(handmade.status, StatusCode::OK, "{:?}", handmade.body);
    assert_eq!(
        ids(handmade.body["products"].as_array().unwrap()),
        ["cafe-creme-mug"]
    );
    let watches = watches.body["products"].as_array().unwrap();
    assert_eq!(watches.len(), 3, "{watches:?}");
    assert!(watches.iter().all(|c| c["collection"] == "watches"));
    assert_eq!(two.body["products"].as_array().unwrap().len(), 2);
    for bad in ["limit=0", "limit=51", "limit=-1", "limit=many"] {
        let answer = api
            .get(&format!("/v1/catalog/products?{bad}"), node.admin())
            .await;
        assert_error(&answer, 400, "invalid");
    }
    let long = encode(&"ö".repeat(501));
    assert_error(
        &api.get(&format!("/v1/catalog/products?q={long}"), node.admin())
            .await,
        400,
        "invalid",
    );
    assert_error(
        &api.get("/v1/catalog/products", &customer).await,
        403,
        "forbidden",
    );
}

/// Columns the importer does not know are ignored, wherever they are.
#[actix_web::test]
async fn unknown_extra_columns_are_ignored() {
    // Arrange.
    let node = TestNode::start().await;
    let body = "Gift Card,Handle,Title,Loyalty Points,Variant Price,Variant SKU,Ünïcode Column\n\
                FALSE,extra-easel,Extra Easel,120,35.00,EE-1,🎨\n"
        .as_bytes()
        .to_vec();

    // Act.
    let answer = import(&node, "", body).await;

    // Assert.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["products"], 1);
    assert_eq!(answer.body["variants"], 1);
    assert_eq!(answer.body["errors"], json!([]));
    let found = search(&node.api, node.admin(), "Extra Easel").await;
    assert_eq!(ids(&found), ["extra-easel"]);
    assert_eq!(found[0]["price"]["amount_minor"], 3500);
    assert_eq!(variant_ids(&found[0]), ["EE-1"]);
}

/// With `?partial=true` the good products of a file import and the bad one is reported;
/// without it the same file imports nothing.
#[actix_web::test]
async fn a_partial_import_keeps_the_good_products_and_reports_the_bad_one() {
    // Arrange: lines 2-3 good, 4-5 bad (line 5), 6 good.
    let node = TestNode::start().await;
    let body = csv(&[
        product(
            "good-globe",
            "Good Globe",
            &[("S", "GG-S", "20.00"), ("L", "GG-L", "30.00")],
        ),
        product(
            "broken-bowl",
            "Broken Bowl",
            &[("S", "BB-S", "8.00"), ("L", "BB-L", "-8.00")],
        ),
        product("fine-fork", "Fine Fork", &[("One", "FF-1", "3.50")]),
    ]);

    // Act: first all or nothing, then partial.
    let whole = refused_without_change(&node, "text/csv", body.clone(), "Good Globe").await;
    let partial = import(&node, "?partial=true", body).await;

    // Assert.
    assert_error(&whole, 422, "invalid");
    assert_eq!(whole.body["errors"][0]["line"], 5);

    assert_eq!(partial.status, StatusCode::OK, "{:?}", partial.body);
    assert_eq!(partial.body["products"], 2);
    assert_eq!(partial.body["variants"], 3);
    let errors = partial.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 5);
    assert!(errors[0]["message"].as_str().unwrap().contains("negative"));
    assert_eq!(
        ids(&search(&node.api, node.admin(), "Good Globe").await),
        ["good-globe"]
    );
    assert_eq!(
        ids(&search(&node.api, node.admin(), "Fine Fork").await),
        ["fine-fork"]
    );
    assert!(search(&node.api, node.admin(), "Broken Bowl")
        .await
        .is_empty());
}

/// A partial import of a file whose every product is bad still imports nothing.
#[actix_web::test]
async fn a_partial_import_of_only_bad_products_is_refused() {
    // Arrange.
    let node = TestNode::start().await;
    let body = csv(&[product(
        "bad-bench",
        "Bad Bench",
        &[("M", "BBE-M", "1,000.00")],
    )]);
    let before = whole_catalog(&node).await;

    // Act.
    let answer = import(&node, "?partial=true", body).await;

    // Assert.
    assert_error(&answer, 422, "invalid");
    assert_eq!(answer.body["errors"][0]["line"], 2);
    assert_eq!(whole_catalog(&node).await, before);
}

/// Titles in Japanese, with emoji, in right-to-left scripts and with markup come back
/// exactly as written and are found by their own words; `%` and `_` are searched for
/// literally, not as wildcards.
#[actix_web::test]
async fn unicode_and_hostile_titles_round_trip_through_search() {
    // Arrange.
    let node = TestNode::start().await;
    let titles = [
        ("sakura-watch", "腕時計 桜エディション", "桜エディション"),
        ("sparkle-ring", "Bague Étincelle 💍✨", "💍✨"),
        ("desert-hourglass", "ساعة رملية ذهبية", "رملية"),
        ("hebrew-lamp", "מנורת שולחן", "מנורת"),
        (
            "markup-mug",
            "<script>alert(\"x\")</script> & Co, \"Mug\"",
            "<script>alert(\"x\")</script>",
        ),
        (
            "formula-frame",
            "=HYPERLINK(\"http://evil.invalid\") Frame",
            "=hyperlink(\"http://evil.invalid\")",
        ),
        ("cotton-tee", "100% Cotton_Tee", "100%"),
    ];
    let products: Vec<String> = titles
        .iter()
        .enumerate()
        .map(|(i, (handle, title, _))| {
            product(handle, title, &[("M", &format!("UNI-{i}"), "10.00")])
        })
        .collect();

    // Act.
    let answer = import(&node, "", csv(&products)).await;

    // Assert.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["products"], titles.len());
    for (handle, title, term) in titles {
        let found = search(&node.api, node.admin(), term).await;
        assert_eq!(ids(&found), [handle], "search for {term:?}");
        assert_eq!(found[0]["title"], title);
    }
    // Wildcards are literal: each matches only the product that contains it.
    assert_eq!(
        ids(&search(&node.api, node.admin(), "%").await),
        ["cotton-tee"]
    );
    assert_eq!(
        ids(&search(&node.api, node.admin(), "_").await),
        ["cotton-tee"]
    );
    assert_eq!(
        ids(&search(&node.api, node.admin(), "n_t").await),
        ["cotton-tee"],
        "\"n_t\" must not match \"knit\" or \"nut\""
    );
    assert_eq!(
        ids(&search(&node.api, node.admin(), "0%c").await),
        Vec::<String>::new(),
        "\"0%c\" must not match \"100% Cotton\" through a wildcard"
    );
}

/// Control characters in a title are refused on their line, and the file changes nothing.
#[actix_web::test]
async fn a_title_with_control_characters_is_refused() {
    // Arrange.
    let node = TestNode::start().await;
    let body = csv(&[
        product("calm-clock", "Calm Clock", &[("M", "CC-M", "10.00")]),
        product("bell-clock", "Bell\u{7} Clock", &[("M", "BC-M", "10.00")]),
    ]);

    // Act.
    let answer = refused_without_change(&node, "text/csv", body, "Calm Clock").await;

    // Assert.
    assert_error(&answer, 422, "invalid");
    assert_eq!(answer.body["errors"][0]["line"], 3);
    assert!(answer.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("control characters"));
}

/// Importing a product again updates it: a changed price shows, and a variant the new
/// file no longer lists is gone.
#[actix_web::test]
async fn a_reimport_updates_prices_and_removes_variants_no_longer_listed() {
    // Arrange.
    let node = TestNode::start().await;
    let first = csv(&[product(
        "probe-lamp",
        "Probe Lamp",
        &[("S", "PL-S", "10.00"), ("M", "PL-M", "11.00")],
    )]);
    let answer = import(&node, "", first).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let found = search(&node.api, node.admin(), "Probe Lamp").await;
    assert_eq!(variant_ids(&found[0]), ["PL-S", "PL-M"]);
    assert_eq!(found[0]["price"]["amount_minor"], 1000);

    // Act.
    let second = csv(&[product(
        "probe-lamp",
        "Probe Lamp",
        &[("S", "PL-S", "12.50")],
    )]);
    let answer = import(&node, "", second).await;

    // Assert.
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["products"], 1);
    assert_eq!(answer.body["variants"], 1);
    let found = search(&node.api, node.admin(), "Probe Lamp").await;
    assert_eq!(ids(&found), ["probe-lamp"]);
    assert_eq!(variant_ids(&found[0]), ["PL-S"]);
    assert_eq!(found[0]["price"]["amount_minor"], 1250);
    assert_eq!(found[0]["variants"][0]["price"]["amount_minor"], 1250);
    assert!(
        search(&node.api, node.admin(), "PL-M").await.is_empty(),
        "the removed variant is still searchable"
    );
}

/// Importing needs the settings module: a shopper gets 403, no token 401, and neither
/// changes the catalog.
#[actix_web::test]
async fn only_staff_with_settings_may_import() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (_, shopper) = api.shopper(node.admin(), "Ines Duarte", &[]).await;
    let (_, customer) = api.widget_session("pk_demo", "Ola Nordmann").await;
    let body = csv(&[product(
        "forbidden-fan",
        "Forbidden Fan",
        &[("M", "FF-M", "5.00")],
    )]);
    let before = whole_catalog(&node).await;

    // Act.
    let as_shopper = api
        .post_raw("/v1/catalog/import", &shopper, "text/csv", body.clone())
        .await;
    let as_customer = api
        .post_raw("/v1/catalog/import", &customer, "text/csv", body.clone())
        .await;
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/catalog/import", api.base()))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("request reaches the server");
    let anonymous = Answer {
        status: anonymous.status(),
        body: anonymous.json().await.unwrap_or(Value::Null),
    };

    // Assert.
    assert_error(&as_shopper, 403, "forbidden");
    assert_error(&as_customer, 403, "forbidden");
    assert_error(&anonymous, 401, "unauthorized");
    assert_eq!(whole_catalog(&node).await, before);
    // A shopper may still search.
    assert!(!search(api, &shopper, "watch").await.is_empty());
}
