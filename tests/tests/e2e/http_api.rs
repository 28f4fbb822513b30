//! The HTTP API against the wire contract: creating sessions, reading them back, the
//! session list and logs, invitations, shopper management, permissions, tenancy and the
//! error shape.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vitrine_engine::identity::{Module, StaffPrincipal};
use vitrine_persistence::model::{Tenant, TenantId, User, UserId};
use vitrine_tests::http::{Answer, Api};
use vitrine_tests::node::TestNode;
use vitrine_tests::ws::WsClient;

/// Percent-encodes `text` for a query string (everything but unreserved characters).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Checks the status and that the body is the contract's error shape with `code`.
pub(crate) fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status.as_u16(), status, "{:?}", answer.body);
    let error = answer.body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("no error object in {:?}", answer.body));
    assert_eq!(error.get("code"), Some(&json!(code)), "{:?}", answer.body);
    let message = error.get("message").and_then(Value::as_str);
    assert!(
        message.is_some_and(|m| !m.trim().is_empty()),
        "no message in {:?}",
        answer.body
    );
}

/// Sends a request with any headers and raw body.
async fn send(
    api: &Api,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Answer {
    let mut req = reqwest::Client::new().request(method, format!("{}{}", api.base(), path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// `POST /v1/sessions` from the widget with `key` and a JSON body.
async fn widget_request(api: &Api, key: &str, body: Value) -> Answer {
    send(
        api,
        Method::POST,
        "/v1/sessions",
        &[("X-Vitrine-Key", key), ("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await
}

/// Ids of a session list answer.
fn session_ids(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["sessions"]
        .as_array()
        .expect("a list of sessions")
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A staff token of the demo tenant holding exactly `modules`, for a user that exists.
fn staff_token(node: &TestNode, user: &str, modules: &[Module]) -> String {
    node.state
        .tokens
        .issue_staff(
            &StaffPrincipal {
                tenant_id: TenantId::new("demo"),
                user_id: UserId::new(user),
                name: "Scoped".into(),
                modules: modules.iter().copied().collect(),
            },
            Duration::from_secs(600),
        )
        .token
}

/// A second tenant, `acme`, with an admin; returns the admin's token.
async fn second_tenant(node: &TestNode) -> String {
    let store = node.state.engine.store();
    let tenant = TenantId::new("acme");
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Acme Outfitters".into(),
            public_key: "pk_acme".into(),
            currency: "EUR".into(),
            created_at: vitrine_persistence::now(),
        })
        .await
        .expect("create the second tenant");
    store
        .create_user(&User {
            tenant_id: tenant.clone(),
            id: UserId::new("usr_acme_admin"),
            name: "Acme Admin".into(),
            email: "admin@acme.test".into(),
            phone: None,
            roles: vec!["admin".into()],
            collections: Vec::new(),
            created_at: vitrine_persistence::now(),
        })
        .await
        .expect("create its admin");
    node.state
        .tokens
        .issue_staff(
            &StaffPrincipal {
                tenant_id: tenant,
                user_id: UserId::new("usr_acme_admin"),
                name: "Acme Admin".into(),
                modules: Module::ALL.into_iter().collect(),
            },
            Duration::from_secs(600),
        )
        .token
}

/// A session the shopper has joined and started, with the customer connected.
async fn live_session(
    node: &TestNode,
    shopper_token: &str,
    customer: &str,
) -> (String, WsClient, WsClient) {
    let (session_id, customer_token) = node.api.widget_session("pk_demo", customer).await;
    let mut shopper = WsClient::connect(&node.api).await;
    shopper.hello(shopper_token, &session_id, None).await;
    let started = shopper.command(json!({"type": "session.start"})).await;
    assert!(started.ok, "{started:?}");
    let mut client = WsClient::connect(&node.api).await;
    client.hello(&customer_token, &session_id, None).await;
    (session_id, shopper, client)
}

/// A widget request creates a `requested` session whose customer token opens it.
#[actix_web::test]
async fn a_widget_request_creates_a_session_the_customer_can_open() {
    // Arrange.
    let node = TestNode::start().await;

    // Act.
    let created = widget_request(
        &node.api,
        "pk_demo",
        json!({"customer": {"name": "Ada Lovelace", "email": "ada@example.test",
                            "phone": "+44 20 7946 0000", "locale": "en-GB"},
               "context": {"product_id": "meridian-automatic", "collection": "watches"}}),
    )
    .await;

    // Assert.
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let b = &created.body;
    assert_eq!(b["status"], "requested");
    let session_id = b["session_id"].as_str().unwrap();
    let token = b["customer_token"].as_str().unwrap();
    let join_url = b["join_url"].as_str().unwrap();
    assert!(join_url.starts_with(node.api.base()), "{join_url}");
    assert!(join_url.contains(session_id), "{join_url}");

    let mut customer = WsClient::connect(&node.api).await;
    let welcome = customer.hello(token, session_id, None).await;
    assert_eq!(welcome.role, "customer");
    assert_eq!(welcome.session["session_id"], session_id);

    let state = node
        .api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    assert_eq!(state.status, StatusCode::OK, "{:?}", state.body);
    assert_eq!(state.body["status"], "requested");
    assert_eq!(state.body["tenant_id"], "demo");
    assert_eq!(state.body["shopper_id"], Value::Null);
    assert_eq!(state.body["participants"][0]["name"], "Ada Lovelace");
    assert_eq!(state.body["participants"][0]["role"], "customer");
}

/// A shopper creating a session for their customer gets it `matched` to themselves.
#[actix_web::test]
async fn a_shopper_creates_a_session_matched_to_themselves() {
    // Arrange.
    let node = TestNode::start().await;
    let (shopper_id, token) = node.api.shopper(node.admin(), "Marta Ruiz", &[]).await;

    // Act.
    let created = node
        .api
        .post(
            "/v1/sessions",
            &token,
            json!({"customer": {"name": "Chen Wei"}}),
        )
        .await;

    // Assert.
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["status"], "matched");
    let session_id = created.body["session_id"].as_str().unwrap();
    let state = node
        .api
        .get(&format!("/v1/sessions/{session_id}"), &token)
        .await;
    assert_eq!(state.status, StatusCode::OK, "{:?}", state.body);
    assert_eq!(state.body["status"], "matched");
    assert_eq!(state.body["shopper_id"], shopper_id);

    let mut customer = WsClient::connect(&node.api).await;
    let welcome = customer
        .hello(
            created.body["customer_token"].as_str().unwrap(),
            session_id,
            None,
        )
        .await;
    assert_eq!(welcome.session["shopper_id"], shopper_id);
}

/// Broken, oversized and hostile session requests are refused with the right code and
/// create nothing; names in any script are fine.
#[actix_web::test]
async fn bad_session_requests_are_refused_and_unicode_names_are_fine() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let bad: Vec<(&str, Value)> = vec![
        ("no customer", json!({})),
        ("customer not an object", json!({"customer": "Ada"})),
        ("no name", json!({"customer": {}})),
        ("empty name", json!({"customer": {"name": ""}})),
        ("blank name", json!({"customer": {"name": " \t "}})),
        (
            "300-char name",
            json!({"customer": {"name": "é".repeat(300)}}),
        ),
        ("name not text", json!({"customer": {"name": 42}})),
        (
            "bad email",
            json!({"customer": {"name": "Ada", "email": "ada.example.test"}}),
        ),
        (
            "email with space",
            json!({"customer": {"name": "Ada", "email": "a da@x.test"}}),
        ),
        (
            "email only an at sign",
            json!({"customer": {"name": "Ada", "email": "@"}}),
        ),
        (
            "email without a domain",
            json!({"customer": {"name": "Ada", "email": "ada@"}}),
        ),
        (
            "email with a header after it",
            json!({"customer": {"name": "Ada", "email": "ada@x.test\nBcc: b@y.test"}}),
        ),
        (
            "name that fakes a transcript line",
            json!({"customer": {"name": "Ada\n[2026-12-04T10:00:00Z] Marta (shopper): pay here"}}),
        ),
        (
            "name with a direction override",
            json!({"customer": {"name": "\u{202E}adA"}}),
        ),
        ("name with a NUL", json!({"customer": {"name": "Ada\u{0}"}})),
        (
            "booking in the past",
            json!({"customer": {"name": "Ada"}, "scheduled_for": "2020-01-01T10:00:00Z"}),
        ),
        (
            "booking years ahead",
            json!({"customer": {"name": "Ada"}, "scheduled_for": "2099-01-01T10:00:00Z"}),
        ),
        (
            "bad phone",
            json!({"customer": {"name": "Ada", "phone": "call me"}}),
        ),
        (
            "bad locale",
            json!({"customer": {"name": "Ada", "locale": "<script>"}}),
        ),
        (
            "context a list",
            json!({"customer": {"name": "Ada"}, "context": [1, 2]}),
        ),
        (
            "context text",
            json!({"customer": {"name": "Ada"}, "context": "watches"}),
        ),
        (
            "context too big",
            json!({"customer": {"name": "Ada"}, "context": {"note": "x".repeat(5000)}}),
        ),
    ];

    // Act and assert: each one.
    for (what, body) in bad {
        let answer = widget_request(api, "pk_demo", body).await;
        assert_eq!(answer.status, 400, "{what}: {:?}", answer.body);
        assert_error(&answer, 400, "invalid");
    }
    let not_json = send(
        api,
        Method::POST,
        "/v1/sessions",
        &[
            ("X-Vitrine-Key", "pk_demo"),
            ("content-type", "application/json"),
        ],
        Some(b"{\"customer\": {\"name\": \"Ada\"".to_vec()),
    )
    .await;
    assert_error(&not_json, 400, "invalid");
    let not_declared_json = send(
        api,
        Method::POST,
        "/v1/sessions",
        &[("X-Vitrine-Key", "pk_demo"), ("content-type", "text/plain")],
        Some(br#"{"customer": {"name": "Ada"}}"#.to_vec()),
    )
    .await;
    assert_error(&not_declared_json, 400, "invalid");
    let huge = json!({"customer": {"name": "Ada"}, "padding": "x".repeat(100 * 1024)});
    let too_large = widget_request(api, "pk_demo", huge).await;
    assert_error(&too_large, 413, "too_large");

    let listed = api.get("/v1/sessions", node.admin()).await;
    assert_eq!(
        session_ids(&listed),
        Vec::<String>::new(),
        "nothing was created"
    );

    for name in [
        "Zoë Ångström",
        "山田 太郎",
        "محمد علي",
        "Ольга 🌸",
        &"ß".repeat(200),
    ] {
        let created = widget_request(api, "pk_demo", json!({"customer": {"name": name}})).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{name}: {:?}",
            created.body
        );
        let id = created.body["session_id"].as_str().unwrap();
        let state = api.get(&format!("/v1/sessions/{id}"), node.admin()).await;
        assert_eq!(state.body["participants"][0]["name"], name);
    }
}

/// Without a known public key or a token, no session is created.
#[actix_web::test]
async fn an_unknown_public_key_is_unauthorized() {
    // Arrange.
    let node = TestNode::start().await;
    let body = json!({"customer": {"name": "Ada"}});

    // Act.
    let unknown = widget_request(&node.api, "pk_nobody", body.clone()).await;
    let empty = widget_request(&node.api, "", body.clone()).await;
    let none = node
        .api
        .call(Method::POST, "/v1/sessions", None, Some(body.clone()))
        .await;
    let (_, customer) = node.api.widget_session("pk_demo", "Ada").await;
    let as_customer = node.api.post("/v1/sessions", &customer, body).await;

    // Assert.
    assert_error(&unknown, 401, "unauthorized");
    assert_error(&empty, 401, "unauthorized");
    assert_error(&none, 401, "unauthorized");
    assert_error(&as_customer, 403, "forbidden");
    let listed = node.api.get("/v1/sessions", node.admin()).await;
    assert_eq!(session_ids(&listed).len(), 1);
}

/// Reading a session needs `video_calls` or `analytics`; a token with neither gets 403,
/// a customer token 403, and an id that does not exist 404.
#[actix_web::test]
async fn reading_a_session_needs_video_calls_or_analytics() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (session_id, customer) = api.widget_session("pk_demo", "Ada").await;
    let path = format!("/v1/sessions/{session_id}");
    let (_, shopper) = api.shopper(node.admin(), "Video Only", &[]).await;
    let analyst = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Numbers Person", "email": "analyst@example.test",
                   "roles": ["analyst"]}),
        )
        .await;
    assert_eq!(analyst.status, StatusCode::CREATED, "{:?}", analyst.body);
    let analyst_id = analyst.body["shopper_id"].as_str().unwrap();
    let analyst = api
        .post(
            &format!("/v1/shoppers/{analyst_id}/tokens"),
            node.admin(),
            json!({}),
        )
        .await;
    let analyst = analyst.body["token"].as_str().unwrap().to_owned();
    let nothing = staff_token(&node, "usr_admin", &[]);
    let settings_only = staff_token(&node, "usr_admin", &[Module::Settings]);

    // Act and assert.
    for token in [&shopper, &analyst, node.admin()] {
        let state = api.get(&path, token).await;
        assert_eq!(state.status, StatusCode::OK, "{:?}", state.body);
        assert_eq!(state.body["session_id"], session_id);
    }
    assert_error(&api.get(&path, &nothing).await, 403, "forbidden");
    assert_error(&api.get(&path, &settings_only).await, 403, "forbidden");
    assert_error(&api.get(&path, &customer).await, 403, "forbidden");
    assert_error(
        &api.get("/v1/sessions/ses_does_not_exist", node.admin())
            .await,
        404,
        "not_found",
    );
    assert_error(
        &api.get(&format!("/v1/sessions/{}", "x".repeat(200)), node.admin())
            .await,
        404,
        "not_found",
    );
}

/// Everything about a session of another tenant answers 404 `not_found`, never 403, in
/// both directions, over HTTP and over the WebSocket.
#[actix_web::test]
async fn another_tenants_session_is_not_found_never_forbidden() {
    // Arrange: a demo session and an acme session.
    let node = TestNode::start().await;
    let api = &node.api;
    let acme = second_tenant(&node).await;
    let (demo_session, _) = api.widget_session("pk_demo", "Demo Customer").await;
    let (acme_session, acme_customer) = api.widget_session("pk_acme", "Acme Customer").await;

    // Act and assert: acme reaching into demo.
    for path in [
        format!("/v1/sessions/{demo_session}"),
        format!("/v1/sessions/{demo_session}/events"),
        format!("/v1/sessions/{demo_session}/transcript"),
    ] {
        assert_error(&api.get(&path, &acme).await, 404, "not_found");
    }
    let invite = api
        .post(
            &format!("/v1/sessions/{demo_session}/participants"),
            &acme,
            json!({"role": "observer", "name": "Spy"}),
        )
        .await;
    assert_error(&invite, 404, "not_found");
    let listed = api.get("/v1/sessions", &acme).await;
    assert_eq!(session_ids(&listed), [acme_session.as_str()]);

    // Demo reaching into acme.
    for path in [
        format!("/v1/sessions/{acme_session}"),
        format!("/v1/sessions/{acme_session}/events"),
        format!("/v1/sessions/{acme_session}/transcript"),
    ] {
        assert_error(&api.get(&path, node.admin()).await, 404, "not_found");
    }
    let listed = api.get("/v1/sessions", node.admin()).await;
    assert_eq!(session_ids(&listed), [demo_session.as_str()]);

    // Over the WebSocket: another tenant's staff token, and a customer token of one
    // session used on another.
    let mut ws = WsClient::connect(api).await;
    assert_eq!(
        ws.try_hello(&acme, &demo_session, None).await.err(),
        Some(Some(4404))
    );
    let mut ws = WsClient::connect(api).await;
    assert_eq!(
        ws.try_hello(&acme_customer, &demo_session, None)
            .await
            .err(),
        Some(Some(4404))
    );

    // The acme admin sees its own session, with its own catalog (empty).
    let own = api
        .get(&format!("/v1/sessions/{acme_session}"), &acme)
        .await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    assert_eq!(own.body["tenant_id"], "acme");
    let products = api.get("/v1/catalog/products?q=watch", &acme).await;
    assert_eq!(products.body["products"], json!([]));
}

/// The session list filters by status, shopper, customer name (in any script, any case),
/// session id and creation time, newest first, and pages with `next_cursor`.
#[actix_web::test]
async fn the_session_list_filters_and_pages() {
    // Arrange: five sessions in different states.
    let node = TestNode::start().await;
    let api = &node.api;
    let (shopper_a, token_a) = api.shopper(node.admin(), "Shopper A", &[]).await;
    let (shopper_b, token_b) = api.shopper(node.admin(), "Shopper B", &[]).await;
    let pause = || tokio::time::sleep(Duration::from_millis(5));

    let (s1, _) = api.widget_session("pk_demo", "Ñandú Pérez").await;
    pause().await;
    let created = api
        .post(
            "/v1/sessions",
            &token_a,
            json!({"customer": {"name": "Юлия Смирнова"}}),
        )
        .await;
    let s2 = created.body["session_id"].as_str().unwrap().to_owned();
    pause().await;
    let (s3, _) = api.widget_session("pk_demo", "Oskar Berg").await;
    let mut b = WsClient::connect(api).await;
    b.hello(&token_b, &s3, None).await;
    assert!(b.command(json!({"type": "session.start"})).await.ok);
    pause().await;
    let created = api
        .post(
            "/v1/sessions",
            &token_a,
            json!({"customer": {"name": "Zoë Ångström"}}),
        )
        .await;
    let s4 = created.body["session_id"].as_str().unwrap().to_owned();
    let mut a = WsClient::connect(api).await;
    a.hello(&token_a, &s4, None).await;
    assert!(a.command(json!({"type": "session.start"})).await.ok);
    assert!(a.command(json!({"type": "session.end"})).await.ok);
    pause().await;
    let (s5, _) = api.widget_session("pk_demo", "山田 花子").await;
    let (s1, s2, s3, s4, s5) = (
        s1.as_str(),
        s2.as_str(),
        s3.as_str(),
        s4.as_str(),
        s5.as_str(),
    );

    let list = |query: String| {
        let admin = node.admin();
        async move { session_ids(&api.get(&format!("/v1/sessions{query}"), admin).await) }
    };
    let all = api.get("/v1/sessions", node.admin()).await;
    let created_at = |id: &str| {
        all.body["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .map(|s| s["created_at"].as_str().unwrap().to_owned())
            .unwrap()
    };

    // Act and assert: the whole list, newest first, with names.
    assert_eq!(session_ids(&all), [s5, s4, s3, s2, s1]);
    assert_eq!(all.body["next_cursor"], Value::Null);
    assert_eq!(all.body["sessions"][0]["customer_name"], "山田 花子");
    assert_eq!(all.body["sessions"][1]["status"], "ended");

    // Status.
    assert_eq!(list("?status=requested".into()).await, [s5, s1]);
    assert_eq!(list("?status=matched".into()).await, [s2]);
    assert_eq!(list("?status=live".into()).await, [s3]);
    assert_eq!(list("?status=ended".into()).await, [s4]);
    assert_eq!(list("?status=cancelled".into()).await, Vec::<String>::new());

    // Shopper.
    assert_eq!(list(format!("?shopper_id={shopper_a}")).await, [s4, s2]);
    assert_eq!(list(format!("?shopper_id={shopper_b}")).await, [s3]);
    assert_eq!(
        list("?shopper_id=usr_nobody".into()).await,
        Vec::<String>::new()
    );

    // Name, any case and script, and session id.
    assert_eq!(list(format!("?q={}", encode("ñandú"))).await, [s1]);
    assert_eq!(list(format!("?q={}", encode("ЮЛИЯ"))).await, [s2]);
    assert_eq!(list(format!("?q={}", encode("山田"))).await, [s5]);
    assert_eq!(list(format!("?q={}", encode("ångström"))).await, [s4]);
    assert_eq!(
        list(format!("?q={}", encode("%"))).await,
        Vec::<String>::new()
    );
    assert_eq!(list(format!("?q={s3}")).await, [s3]);

    // Time: `from` includes, `to` excludes.
    let t2 = encode(&created_at(s2));
    let t3 = encode(&created_at(s3));
    let t4 = encode(&created_at(s4));
    assert_eq!(list(format!("?from={t3}")).await, [s5, s4, s3]);
    assert_eq!(list(format!("?to={t3}")).await, [s2, s1]);
    assert_eq!(list(format!("?from={t2}&to={t4}")).await, [s3, s2]);

    // Combined.
    assert_eq!(
        list(format!("?status=requested&q={}", encode("山田"))).await,
        [s5]
    );
    assert_eq!(
        list(format!("?status=ended&shopper_id={shopper_b}")).await,
        Vec::<String>::new()
    );

    // Paging: pages of two follow each other without gaps or repeats.
    let mut paged: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("/v1/sessions?limit=2&cursor={}", encode(c)),
            None => "/v1/sessions?limit=2".to_owned(),
        };
        let page = api.get(&query, node.admin()).await;
        let ids = session_ids(&page);
        assert!(ids.len() <= 2);
        paged.extend(ids);
        pages += 1;
        assert!(pages <= 5, "paging does not end");
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, [s5, s4, s3, s2, s1]);
    assert_eq!(pages, 3);
    // Paging keeps the filters.
    let first = api
        .get("/v1/sessions?status=requested&limit=1", node.admin())
        .await;
    assert_eq!(session_ids(&first), [s5]);
    let next = first.body["next_cursor"].as_str().unwrap();
    let second = api
        .get(
            &format!(
                "/v1/sessions?status=requested&limit=1&cursor={}",
                encode(next)
            ),
            node.admin(),
        )
        .await;
    assert_eq!(session_ids(&second), [s1]);
}

/// Sessions created in the same instant still page without gaps or repeats: the cursor
/// breaks ties by session id.
#[actix_web::test]
async fn the_session_list_pages_through_sessions_created_at_once() {
    // Arrange: a dozen sessions created concurrently, many in the same millisecond.
    let node = TestNode::start().await;
    let api = &node.api;
    let names: Vec<String> = (0..12).map(|i| format!("Kunde {i} — Ü")).collect();
    let created = futures_util::future::join_all(
        names.iter().map(|name| api.widget_session("pk_demo", name)),
    )
    .await;
    let mut expected: Vec<String> = created.into_iter().map(|(id, _)| id).collect();
    expected.sort();

    // Act: pages of five.
    let mut paged: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let query = match &cursor {
            Some(c) => format!("/v1/sessions?limit=5&cursor={}", encode(c)),
            None => "/v1/sessions?limit=5".to_owned(),
        };
        let page = api.get(&query, node.admin()).await;
        paged.extend(session_ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    // Assert.
    let whole = session_ids(&api.get("/v1/sessions", node.admin()).await);
    assert_eq!(paged, whole, "pages differ from the whole list");
    let mut got = paged.clone();
    got.sort();
    assert_eq!(got, expected);
}

/// Bad list parameters are refused with 400 `invalid`, and the list needs `analytics`.
#[actix_web::test]
async fn bad_session_list_parameters_are_invalid() {
    // Arrange.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Plain Shopper", &[]).await;

    // Act and assert.
    for query in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=lots",
        "status=bogus",
        "status=LIVE",
        "cursor=garbage",
        "cursor=2020-01-01T00%3A00%3A00Z~",
        "cursor=yesterday~ses_1",
        "from=yesterday",
        "to=2020-13-45T00%3A00%3A00Z",
    ] {
        let answer = node
            .api
            .get(&format!("/v1/sessions?{query}"), node.admin())
            .await;
        assert_eq!(answer.status, 400, "{query}: {:?}", answer.body);
        assert_error(&answer, 400, "invalid");
    }
    let long_q = encode(&"ü".repeat(201));
    assert_error(
        &node
            .api
            .get(&format!("/v1/sessions?q={long_q}"), node.admin())
            .await,
        400,
        "invalid",
    );
    assert_error(
        &node.api.get("/v1/sessions", &shopper).await,
        403,
        "forbidden",
    );
}

/// The event log comes in `seq` order, paged by `after` and `limit`, without gaps.
#[actix_web::test]
async fn the_event_log_pages_in_seq_order() {
    // Arrange: a session with a dozen events.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Log Keeper", &[]).await;
    let (session_id, mut staff, mut customer) = live_session(&node, &shopper, "Ada").await;
    for i in 0..6 {
        let sent = customer
            .command(json!({"type": "chat.send", "text": format!("message {i} ✓")}))
            .await;
        assert!(sent.ok, "{sent:?}");
    }
    assert!(staff.command(json!({"type": "session.end"})).await.ok);
    let state = node
        .api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    let last = state.body["seq"].as_u64().unwrap();
    assert!(last >= 10, "{last}");

    // Act: pages of three.
    let mut seqs = Vec::new();
    let mut kinds = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let page = node
            .api
            .get(
                &format!("/v1/sessions/{session_id}/events?after={after}&limit=3"),
                node.admin(),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let events = page.body["events"].as_array().unwrap();
        assert!(events.len() <= 3);
        for e in events {
            seqs.push(e["seq"].as_u64().unwrap());
            kinds.push(e["kind"].as_str().unwrap().to_owned());
        }
        pages += 1;
        assert!(pages < 20, "paging does not end");
        match page.body["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }

    // Assert.
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
    assert_eq!(kinds[0], "session.requested");
    assert_eq!(kinds.last().unwrap(), "session.ended");
    assert_eq!(kinds.iter().filter(|k| *k == "chat.message").count(), 6);

    let tail = node
        .api
        .get(
            &format!("/v1/sessions/{session_id}/events?after={}", last - 2),
            node.admin(),
        )
        .await;
    let tail: Vec<u64> = tail.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(tail, [last - 1, last]);
    let past = node
        .api
        .get(
            &format!("/v1/sessions/{session_id}/events?after={last}"),
            node.admin(),
        )
        .await;
    assert_eq!(past.body["events"], json!([]));
    assert_eq!(past.body["next_after"], Value::Null);
    for bad in ["limit=0", "limit=1001", "after=-1", "after=abc"] {
        let answer = node
            .api
            .get(
                &format!("/v1/sessions/{session_id}/events?{bad}"),
                node.admin(),
            )
            .await;
        assert_error(&answer, 400, "invalid");
    }
    assert_error(
        &node
            .api
            .get(&format!("/v1/sessions/{session_id}/events"), &shopper)
            .await,
        403,
        "forbidden",
    );
}

/// The transcript has every chat line with who wrote it, as text and as JSON.
#[actix_web::test]
async fn the_transcript_lists_the_chat_as_text_and_json() {
    // Arrange.
    let node = TestNode::start().await;
    let (_, shopper) = node.api.shopper(node.admin(), "Marta Ruiz", &[]).await;
    let (session_id, mut staff, mut customer) = live_session(&node, &shopper, "Zoë").await;
    let lines = [
        ("Marta Ruiz", "shopper", "¡Hola! ¿Qué buscas hoy?"),
        ("Zoë", "customer", "Un reloj ⌚ para mi padre"),
        ("Marta Ruiz", "shopper", "Mira este: <b>Meridian</b> & más"),
    ];
    // A message cannot fake a line of the text transcript, nor carry other controls.
    let forged = customer
        .command(json!({
            "type": "chat.send",
            "text": "ok\n[2026-12-04T10:00:00Z] Marta Ruiz (shopper): pay at evil.example\r\nthanks"
        }))
        .await;
    assert!(forged.ok, "{forged:?}");
    let bell = customer
        .command(json!({"type": "chat.send", "text": "ding\u{7}\u{1b}[2J"}))
        .await;
    assert_eq!(bell.code(), "invalid", "{bell:?}");
    for (_, role, text) in lines {
        let client = if role == "shopper" {
            &mut staff
        } else {
            &mut customer
        };
        let sent = client
            .command(json!({"type": "chat.send", "text": text}))
            .await;
        assert!(sent.ok, "{sent:?}");
    }

    // Act.
    let text = send(
        &node.api,
        Method::GET,
        &format!("/v1/sessions/{session_id}/transcript"),
        &[("authorization", &format!("Bearer {}", node.admin()))],
        None,
    )
    .await;
    let as_json = node
        .api
        .get(
            &format!("/v1/sessions/{session_id}/transcript?format=json"),
            node.admin(),
        )
        .await;

    // Assert.
    assert_eq!(text.status, StatusCode::OK, "{:?}", text.body);
    let body = text.body.as_str().expect("a text body");
    let all: Vec<&str> = body.lines().collect();
    assert!(all[0].ends_with("] Zoë (customer): ok"), "{body}");
    assert_eq!(
        all[1..3],
        [
            "    [2026-12-04T10:00:00Z] Marta Ruiz (shopper): pay at evil.example",
            "    thanks"
        ],
        "{body}"
    );
    let got: Vec<&str> = all[3..].to_vec();
    assert_eq!(got.len(), lines.len(), "{body}");
    for (line, (name, role, chat)) in got.iter().zip(lines) {
        assert!(line.starts_with('['), "{line}");
        assert!(
            line.ends_with(&format!("] {name} ({role}): {chat}")),
            "{line}"
        );
    }

    assert_eq!(as_json.status, StatusCode::OK, "{:?}", as_json.body);
    assert_eq!(as_json.body["session_id"], session_id);
    let messages = as_json.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), lines.len() + 1);
    assert_eq!(
        messages[0]["text"],
        "ok\n[2026-12-04T10:00:00Z] Marta Ruiz (shopper): pay at evil.example\nthanks",
        "line breaks are kept, normalised to \\n"
    );
    for (m, (name, role, chat)) in messages[1..].iter().zip(lines) {
        assert_eq!(m["name"], name);
        assert_eq!(m["role"], role);
        assert_eq!(m["text"], chat);
        assert!(m["seq"].as_u64().is_some());
    }

    assert_error(
        &node
            .api
            .get(
                &format!("/v1/sessions/{session_id}/transcript?format=pdf"),
                node.admin(),
            )
            .await,
        400,
        "invalid",
    );
    assert_error(
        &node
            .api
            .get(&format!("/v1/sessions/{session_id}/transcript"), &shopper)
            .await,
        403,
        "forbidden",
    );
}

/// An invited observer joins with their own token, sees staff-only events the customer
/// never sees, and may not push cards.
#[actix_web::test]
async fn an_invited_observer_sees_staff_events_but_cannot_push_cards() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (_, shopper) = api
        .shopper(node.admin(), "Lead Shopper", &["watches"])
        .await;
    let (session_id, mut staff, mut customer) = live_session(&node, &shopper, "Ada").await;

    // Act: invite.
    let invited = api
        .post(
            &format!("/v1/sessions/{session_id}/participants"),
            &shopper,
            json!({"role": "observer", "name": "  Supervisora Inés  "}),
        )
        .await;

    // Assert.
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    assert_eq!(invited.body["role"], "observer");
    let token = invited.body["token"].as_str().unwrap();
    let participant_id = invited.body["participant_id"].as_str().unwrap();
    assert!(invited.body["join_url"]
        .as_str()
        .unwrap()
        .contains(&session_id));

    let mut observer = WsClient::connect(api).await;
    let welcome = observer.hello(token, &session_id, None).await;
    assert_eq!(welcome.role, "observer");
    assert_eq!(welcome.participant_id, participant_id);

    let found = staff
        .command(json!({"type": "catalog.search", "query": "meridian"}))
        .await;
    assert!(found.ok, "{found:?}");
    let searched = found.seq.unwrap();
    assert!(observer.wait_for_seq(searched).await);
    assert!(observer
        .events
        .iter()
        .any(|e| e.kind == "product.searched" && e.seq == searched));
    let chat = staff
        .command(json!({"type": "chat.send", "text": "after the search"}))
        .await;
    assert!(customer.wait_for_seq(chat.seq.unwrap()).await);
    assert!(customer.events.iter().all(|e| e.kind != "product.searched"));

    let push = observer
        .command(json!({"type": "card.push", "product_id": "meridian-automatic"}))
        .await;
    assert_eq!(push.code(), "forbidden", "{push:?}");
    let state = api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    assert_eq!(state.body["cards"], json!([]));
    let names: Vec<&str> = state.body["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["role"] == "observer")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Supervisora Inés"]);

    // The token opens this session only.
    let (other, _) = api.widget_session("pk_demo", "Someone Else").await;
    let mut elsewhere = WsClient::connect(api).await;
    assert_eq!(
        elsewhere.try_hello(token, &other, None).await.err(),
        Some(Some(4404))
    );
}

/// Invitations are checked: role and name, who asks, and whether the session is over.
#[actix_web::test]
async fn bad_invitations_are_refused() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (_, shopper) = api.shopper(node.admin(), "Lead Shopper", &[]).await;
    let (_, bystander) = api.shopper(node.admin(), "Other Shopper", &[]).await;
    let created = api
        .post(
            "/v1/sessions",
            &shopper,
            json!({"customer": {"name": "Ada"}}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let session_id = created.body["session_id"].as_str().unwrap().to_owned();
    let customer = created.body["customer_token"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{session_id}/participants");

    // Act and assert.
    for body in [
        json!({"role": "admin", "name": "Root"}),
        json!({"role": "observer"}),
        json!({"role": "observer", "name": ""}),
        json!({"role": "observer", "name": "x".repeat(201)}),
        json!({"role": "observer", "name": "Guest\r\nShopper"}),
        json!({"role": "observer", "name": "\u{2067}Guest"}),
        json!({"name": "No Role"}),
    ] {
        assert_error(&api.post(&path, &shopper, body).await, 400, "invalid");
    }
    let body = json!({"role": "observer", "name": "Guest"});
    assert_error(
        &api.post(&path, &customer, body.clone()).await,
        403,
        "forbidden",
    );
    // Only the session's own shopper (or an admin) invites.
    assert_error(
        &api.post(&path, &bystander, body.clone()).await,
        403,
        "forbidden",
    );
    let analyst = staff_token(&node, "usr_admin", &[Module::Analytics]);
    assert_error(
        &api.post(&path, &analyst, body.clone()).await,
        403,
        "forbidden",
    );
    assert_error(
        &api.post(
            "/v1/sessions/ses_missing/participants",
            &shopper,
            body.clone(),
        )
        .await,
        404,
        "not_found",
    );

    let mut staff = WsClient::connect(api).await;
    staff.hello(&shopper, &session_id, None).await;
    assert!(staff.command(json!({"type": "session.end"})).await.ok);
    assert_error(&api.post(&path, &shopper, body).await, 409, "session_ended");
}

/// Shoppers are created with their roles and listed; bad emails, unknown roles and a
/// taken email are refused.
#[actix_web::test]
async fn shoppers_are_created_listed_and_validated() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;

    // Act.
    let created = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "  Ingrid Ødegård ", "email": "Ingrid@Example.TEST",
                   "phone": "+47 22 00 00 00", "collections": [" Watches ", "Knitwear"],
                   "roles": ["shopper", "analyst"]}),
        )
        .await;

    // Assert.
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let s = &created.body;
    let id = s["shopper_id"].as_str().unwrap().to_owned();
    assert_eq!(s["name"], "Ingrid Ødegård");
    assert_eq!(s["email"], "ingrid@example.test");
    assert_eq!(s["collections"], json!(["watches", "knitwear"]));
    assert_eq!(s["roles"], json!(["shopper", "analyst"]));
    assert_eq!(s["modules"], json!(["video_calls", "analytics"]));

    let analyst = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Only Numbers", "email": "numbers@example.test",
                   "roles": ["analyst"]}),
        )
        .await;
    assert_eq!(analyst.status, StatusCode::CREATED, "{:?}", analyst.body);
    let listed = api.get("/v1/shoppers", node.admin()).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let ids: Vec<&str> = listed.body["shoppers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shopper_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()), "{ids:?}");
    assert!(ids.contains(&"usr_demo_shopper"), "{ids:?}");
    assert!(
        !ids.contains(&analyst.body["shopper_id"].as_str().unwrap()),
        "an analyst takes no calls: {ids:?}"
    );

    let mut bad: Vec<(&str, Value)> = vec![
        (
            "no at sign",
            json!({"name": "A", "email": "a.example.test"}),
        ),
        (
            "space in email",
            json!({"name": "A", "email": "a b@example.test"}),
        ),
        (
            "empty name",
            json!({"name": " ", "email": "blank@example.test"}),
        ),
        (
            "long name",
            json!({"name": "n".repeat(201), "email": "long@example.test"}),
        ),
        (
            "name on two lines",
            json!({"name": "Ana\nAdmin", "email": "two@example.test"}),
        ),
        (
            "name with an escape sequence",
            json!({"name": "Ana\u{1b}[31m", "email": "esc@example.test"}),
        ),
        ("email only an at sign", json!({"name": "A", "email": "@"})),
        (
            "unknown role",
            json!({"name": "A", "email": "w@example.test", "roles": ["wizard"]}),
        ),
        (
            "no roles",
            json!({"name": "A", "email": "r@example.test", "roles": []}),
        ),
        (
            "blank collection",
            json!({"name": "A", "email": "c@example.test",
                                     "collections": [""]}),
        ),
        ("no email", json!({"name": "A"})),
    ];
    bad.push((
        "too many collections",
        json!({"name": "A", "email": "m@example.test",
               "collections": (0..51).map(|i| format!("c{i}")).collect::<Vec<_>>()}),
    ));
    for (what, body) in bad {
        let answer = api.post("/v1/shoppers", node.admin(), body).await;
        assert_eq!(answer.status, 400, "{what}: {:?}", answer.body);
        assert_error(&answer, 400, "invalid");
    }
    let wizard = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "A", "email": "w@example.test", "roles": ["wizard"]}),
        )
        .await;
    assert!(wizard.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("wizard"));

    let taken = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Ingrid Again", "email": "ingrid@example.test"}),
        )
        .await;
    assert_error(&taken, 409, "conflict");
    let taken_other_case = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Ingrid Again", "email": " INGRID@example.test"}),
        )
        .await;
    assert_error(&taken_other_case, 409, "conflict");
    let after = api.get("/v1/shoppers", node.admin()).await;
    assert_eq!(
        after.body["shoppers"].as_array().unwrap().len(),
        listed.body["shoppers"].as_array().unwrap().len(),
        "a refused shopper was stored"
    );
}

/// A minted shopper token opens sessions on the WebSocket; its lifetime is bounded; an
/// unknown shopper is not found.
#[actix_web::test]
async fn shopper_tokens_work_on_the_websocket_within_their_bounds() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let created = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Token Holder", "email": "holder@example.test"}),
        )
        .await;
    let id = created.body["shopper_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/shoppers/{id}/tokens");

    // Act.
    let default = api.post(&path, node.admin(), json!({})).await;
    let short = api
        .post(&path, node.admin(), json!({"ttl_seconds": 60}))
        .await;
    let longest = api
        .post(&path, node.admin(), json!({"ttl_seconds": 90 * 24 * 3600}))
        .await;
    let without_body = send(
        api,
        Method::POST,
        &path,
        &[("authorization", &format!("Bearer {}", node.admin()))],
        None,
    )
    .await;

    // Assert: tokens, and their expiry ordered by lifetime.
    for answer in [&default, &short, &longest, &without_body] {
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        assert!(answer.body["token"].as_str().is_some_and(|t| t.len() > 20));
    }
    let expiry = |a: &Answer| a.body["expires_at"].as_str().unwrap().to_owned();
    assert!(expiry(&short) < expiry(&default));
    assert!(expiry(&default) < expiry(&longest));

    let (session_id, _) = api.widget_session("pk_demo", "Ada").await;
    let mut ws = WsClient::connect(api).await;
    let welcome = ws
        .hello(short.body["token"].as_str().unwrap(), &session_id, None)
        .await;
    assert_eq!(welcome.role, "shopper");
    let started = ws.command(json!({"type": "session.start"})).await;
    assert!(started.ok, "{started:?}");
    let state = api
        .get(&format!("/v1/sessions/{session_id}"), node.admin())
        .await;
    assert_eq!(state.body["shopper_id"], id);
    assert_eq!(state.body["status"], "live");

    let empty_json = send(
        api,
        Method::POST,
        &path,
        &[
            ("authorization", &format!("Bearer {}", node.admin())),
            ("content-type", "application/json"),
        ],
        Some(Vec::new()),
    )
    .await;
    assert_eq!(
        empty_json.status,
        StatusCode::CREATED,
        "{:?}",
        empty_json.body
    );
    let not_declared_json = send(
        api,
        Method::POST,
        &path,
        &[
            ("authorization", &format!("Bearer {}", node.admin())),
            ("content-type", "text/plain"),
        ],
        Some(br#"{"ttl_seconds": 0}"#.to_vec()),
    )
    .await;
    assert_error(&not_declared_json, 400, "invalid");
    for body in [
        json!({"ttl_seconds": 0}),
        json!({"ttl_seconds": 90 * 24 * 3600 + 1}),
        json!({"ttl_seconds": -60}),
        json!({"ttl_seconds": "3600"}),
        json!({"ttl_seconds": 1.5}),
    ] {
        let answer = api.post(&path, node.admin(), body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
        assert_error(&answer, 400, "invalid");
    }
    assert_error(
        &api.post("/v1/shoppers/usr_nobody/tokens", node.admin(), json!({}))
            .await,
        404,
        "not_found",
    );
    let acme = second_tenant(&node).await;
    assert_error(&api.post(&path, &acme, json!({})).await, 404, "not_found");

    // An analyst's token is a staff token but cannot take calls.
    let analyst = api
        .post(
            "/v1/shoppers",
            node.admin(),
            json!({"name": "Only Numbers", "email": "numbers@example.test",
                   "roles": ["analyst"]}),
        )
        .await;
    let analyst_id = analyst.body["shopper_id"].as_str().unwrap();
    let analyst_token = api
        .post(
            &format!("/v1/shoppers/{analyst_id}/tokens"),
            node.admin(),
            json!({}),
        )
        .await;
    let mut ws = WsClient::connect(api).await;
    assert_eq!(
        ws.try_hello(
            analyst_token.body["token"].as_str().unwrap(),
            &session_id,
            None
        )
        .await
        .err(),
        Some(Some(4401))
    );
}

/// A plain shopper may not manage shoppers, import or read the analytics; expired,
/// forged and malformed tokens are unauthorized everywhere.
#[actix_web::test]
async fn permissions_and_bad_tokens_are_enforced() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;
    let (shopper_id, shopper) = api.shopper(node.admin(), "Plain Shopper", &[]).await;
    let (session_id, _) = api.widget_session("pk_demo", "Ada").await;

    // Act and assert: 403 for the plain shopper.
    let shopper_body = json!({"name": "New", "email": "new@example.test"});
    assert_error(
        &api.post("/v1/shoppers", &shopper, shopper_body.clone())
            .await,
        403,
        "forbidden",
    );
    assert_error(&api.get("/v1/shoppers", &shopper).await, 403, "forbidden");
    assert_error(
        &api.post(
            &format!("/v1/shoppers/{shopper_id}/tokens"),
            &shopper,
            json!({}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &api.post_raw(
            "/v1/catalog/import",
            &shopper,
            "text/csv",
            b"Handle".to_vec(),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(&api.get("/v1/sessions", &shopper).await, 403, "forbidden");
    assert_error(
        &api.get(&format!("/v1/sessions/{session_id}/events"), &shopper)
            .await,
        403,
        "forbidden",
    );

    // 401 for tokens that are not good.
    let key = api_signing_key(&node).await;
    let now = unix_now();
    let claims = |exp: i64| {
        json!({"sub": "usr_admin", "tid": "demo", "typ": "staff", "name": "Demo Admin",
               "mods": ["video_calls", "analytics", "settings"], "iat": now - 7200, "exp": exp})
    };
    let fresh = jwt::sign(&key, &claims(now + 3600));
    let expired = jwt::sign(&key, &claims(now - 3600));
    let forged = jwt::sign(&[9u8; 32], &claims(now + 3600));
    let unsigned = jwt::unsigned(&claims(now + 3600));
    // A token signed with the server's key and a future expiry works, so the refusals
    // below are about expiry and signature alone.
    let ok = api.get("/v1/shoppers", &fresh).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);

    let refused = api.get("/v1/shoppers", &expired).await;
    assert_error(&refused, 401, "unauthorized");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    for token in [forged.as_str(), unsigned.as_str(), "garbage", "a.b.c", "🙂"] {
        for path in ["/v1/shoppers", "/v1/sessions", "/v1/catalog/products"] {
            assert_error(&api.get(path, token).await, 401, "unauthorized");
        }
        assert_error(
            &api.post("/v1/shoppers", token, shopper_body.clone()).await,
            401,
            "unauthorized",
        );
    }
    for header in [
        format!("Basic {}", node.admin()),
        format!("bearer{}", node.admin()),
        "Bearer".to_owned(),
    ] {
        let answer = send(
            api,
            Method::GET,
            "/v1/shoppers",
            &[("authorization", header.as_str())],
            None,
        )
        .await;
        assert_error(&answer, 401, "unauthorized");
    }
    let anonymous = send(api, Method::GET, "/v1/shoppers", &[], None).await;
    assert_error(&anonymous, 401, "unauthorized");

    // Over the WebSocket the expired and forged tokens are closed with 4401.
    for token in [&expired, &forged] {
        let mut ws = WsClient::connect(api).await;
        assert_eq!(
            ws.try_hello(token, &session_id, None).await.err(),
            Some(Some(4401))
        );
    }
}

/// Health answers 200; unknown routes and methods answer the JSON error shape.
#[actix_web::test]
async fn health_and_unknown_routes_answer_in_the_contract_shape() {
    // Arrange.
    let node = TestNode::start().await;
    let api = &node.api;

    // Act and assert: health needs no token.
    let health = send(api, Method::GET, "/healthz", &[], None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = send(api, Method::GET, "/readyz", &[], None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");

    let auth = format!("Bearer {}", node.admin());
    let headers = [("authorization", auth.as_str())];
    for (method, path) in [
        (Method::GET, "/v1/nothing-here"),
        (Method::GET, "/nothing-here"),
        (Method::GET, "/v2/sessions"),
        (Method::GET, "/v1/sessions/x/y/z"),
        (Method::POST, "/v1/catalog/products/import"),
        (Method::GET, "/demo/images/missing.svg"),
        (Method::GET, "/v1/%F0%9F%99%82"),
        // Known paths with a method they do not take.
        (Method::DELETE, "/v1/sessions"),
        (Method::PUT, "/v1/shoppers"),
        (Method::POST, "/healthz"),
        (Method::GET, "/v1/catalog/import"),
    ] {
        let answer = send(api, method.clone(), path, &headers, None).await;
        assert_eq!(answer.status, 404, "{method} {path}: {:?}", answer.body);
        assert_error(&answer, 404, "not_found");
    }
}

/// The server's token signing key, as stored.
async fn api_signing_key(node: &TestNode) -> Vec<u8> {
    node.state
        .engine
        .store()
        .signing_key(vec![0u8; 32])
        .await
        .expect("read the signing key")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// Hand-crafted tokens the server never issues: expired ones and forged ones.
mod jwt {
    use base64::Engine as _;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::Value;

    /// `claims` signed with HS256 under `key`.
    pub fn sign(key: &[u8], claims: &Value) -> String {
        let key = EncodingKey::from_secret(key).expect("a non-empty key");
        encode(&Header::new(Algorithm::HS256), claims, &key).expect("HS256 signs")
    }

    /// A token claiming no signature at all.
    pub fn unsigned(claims: &Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        format!("{header}.{}.", b64.encode(claims.to_string().as_bytes()))
    }
}

/// NUL characters, which Postgres cannot store, are refused at the edge on the Postgres
/// store, and a session sending them does not disturb another session's commands.
#[actix_web::test]
async fn nul_characters_are_refused_at_the_edge_on_postgres() {
    // Arrange: a node on Postgres with two live calls.
    let schema = vitrine_persistence::postgres::testing::TestSchema::new().await;
    let node = TestNode::start_postgres(&schema, "").await;
    let api = &node.api;
    let mut first = vitrine_tests::call::Call::start(api, node.admin()).await;
    let mut second = vitrine_tests::call::Call::start(api, node.admin()).await;

    // Act and assert: WebSocket text, ids and nested fields holding NUL are invalid...
    let chat = first
        .customer
        .command(json!({"type": "chat.send", "text": "bad\u{0}text"}))
        .await;
    assert_eq!(chat.code(), "invalid", "{chat:?}");
    first
        .customer
        .send_text(r#"{"id": "a\u0000b", "type": "ping"}"#)
        .await;
    assert!(
        first
            .customer
            .wait_until(|c| !c.errors.is_empty(), Duration::from_secs(5))
            .await,
        "an id holding NUL is no id"
    );
    // ...while the other call carries on.
    let fine = second
        .customer
        .command(json!({"type": "chat.send", "text": "perfectly fine"}))
        .await;
    assert!(fine.ok, "{fine:?}");
    assert!(
        first
            .customer
            .command(json!({"type": "chat.send", "text": "still here"}))
            .await
            .ok
    );

    // HTTP: bodies and addresses holding NUL are 400, never 500.
    for body in [
        json!({"customer": {"name": "Ada\u{0}"}}),
        json!({"customer": {"name": "Ada"}, "context": {"note": "x\u{0}"}}),
        json!({"customer": {"name": "Ada"}, "context": {"k\u{0}": 1}}),
    ] {
        let answer = widget_request(api, "pk_demo", body.clone()).await;
        assert_error(&answer, 400, "invalid");
    }
    let shopper = api
        .call(
            Method::POST,
            "/v1/shoppers",
            Some(node.admin()),
            Some(json!({"name": "Nul\u{0}", "email": "nul@example.test"})),
        )
        .await;
    assert_error(&shopper, 400, "invalid");
    for path in [
        "/v1/catalog/products?q=%00",
        "/v1/sessions?q=a%00b",
        "/v1/sessions?shopper_id=%00",
        "/v1/sessions/a%00b",
        "/v1/sessions/a%00b/events",
    ] {
        let answer = api.call(Method::GET, path, Some(node.admin()), None).await;
        assert_error(&answer, 400, "invalid");
    }
    let listed = api.get("/v1/sessions?q=Carla", node.admin()).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
}
