//! What operators see: metrics, traces, logs, and a graceful stop.

use std::time::Duration;

use serde_json::json;
use vitrine_tests::call::{demo, push_card, Call};
use vitrine_tests::node::{run_to_exit, ServerProcess, TestNode};
use vitrine_tests::otlp::Receiver;
use vitrine_tests::steady;

/// Parses Prometheus text into `(name with labels, value)` samples.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn value(samples: &[(String, f64)], name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(n, _)| {
            (n == name || n.starts_with(&format!("{name}{{")))
                && labels.iter().all(|l| n.contains(l))
        })
        .map(|(_, v)| *v)
        .sum()
}

/// With `metrics = false` the node runs sessions as usual and `/metrics` says it is off.
#[actix_web::test]
async fn a_node_with_metrics_off_serves_calls_and_answers_404_for_metrics() {
    let node = TestNode::start_with("metrics = false").await;
    let mut call = Call::start(&node.api, node.admin()).await;
    assert!(call.shopper.command(push_card("off")).await.ok);

    let answer = node
        .api
        .call(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.body["error"]["code"], "not_found",
        "{:?}",
        answer.body
    );
}

/// After a scripted session, `/metrics` has every metric with plausible values, and
/// promtool (when installed) accepts the exposition.
#[actix_web::test]
async fn metrics_after_a_session_cover_sessions_commands_fanout_and_commits() {
    // Arrange and act: a call with cards, cart, chat, and a bad command.
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    for i in 0..5 {
        assert!(call.shopper.command(push_card(&format!("m{i}"))).await.ok);
    }
    let add = json!({"type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1});
    assert!(call.customer.command(add).await.ok);
    assert!(
        call.customer
            .command(json!({"type": "chat.send", "text": "hi"}))
            .await
            .ok
    );
    let refused = call.customer.command(push_card("not mine")).await;
    assert_eq!(refused.code(), "forbidden");
    assert!(call.customer.wait_for_seq(refused.seq.unwrap_or(0)).await);

    let answer = node
        .api
        .call(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(answer.status, 200);
    let text = answer.body.as_str().expect("plain text").to_owned();
    let s = samples(&text);

    // Assert
    assert!(value(&s, "vitrine_live_sessions", &[]) >= 1.0, "{text}");
    assert!(value(&s, "vitrine_connected_participants", &["role=\"shopper\""]) >= 1.0);
    assert!(value(&s, "vitrine_connected_participants", &["role=\"customer\""]) >= 1.0);
    assert!(value(&s, "vitrine_ws_connections", &[]) >= 2.0);
    assert!(
        value(
            &s,
            "vitrine_commands_total",
            &["command=\"card.push\"", "outcome=\"ok\""]
        ) >= 5.0
    );
    assert!(
        value(
            &s,
            "vitrine_commands_total",
            &["command=\"card.push\"", "outcome=\"forbidden\""]
        ) >= 1.0
    );
    assert!(
        value(
            &s,
            "vitrine_command_duration_seconds_count",
            &["command=\"cart.add\""]
        ) >= 1.0
    );
    assert!(value(&s, "vitrine_fanout_latency_seconds_count", &[]) >= 10.0);
    assert!(value(&s, "vitrine_events_appended_total", &["tenant=\"demo\""]) >= 8.0);
    assert!(value(&s, "vitrine_group_commit_appends_count", &[]) >= 1.0);
    assert!(value(&s, "vitrine_group_commit_duration_seconds_sum", &[]) > 0.0);
    for declared in [
        "vitrine_outbound_queue_drops_total",
        "vitrine_store_errors_total",
    ] {
        assert!(
            text.contains(&format!("# HELP {declared}")),
            "{declared} is described"
        );
    }
    let sum = value(&s, "vitrine_fanout_latency_seconds_sum", &[]);
    let count = value(&s, "vitrine_fanout_latency_seconds_count", &[]);
    assert!(sum / count < 5.0, "fan-out latency is plausible");

    if std::path::Path::new("/usr/bin/promtool").exists() {
        let mut child = std::process::Command::new("/usr/bin/promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// With an OTLP endpoint set, the spans of one `card.push` reach the receiver, and the
/// store append is linked to it (a descendant of the command's span, or linked to it).
#[actix_web::test]
async fn a_card_push_is_traced_to_its_store_append_over_otlp() {
    // Arrange: a receiver, and a node exporting to it.
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    let mut server = ServerProcess::start(dir.path(), &env).await;
    let mut call = Call::start(&server.api, server.admin()).await;

    // Act
    let pushed = call.shopper.command(push_card("traced")).await;
    assert!(pushed.ok);
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(15)).await.is_some());

    // Assert: the command's span, and an append below it or linked to it.
    let spans = receiver.spans();
    let push = spans
        .iter()
        .find(|s| s.name == "card.push")
        .unwrap_or_else(|| panic!("no card.push span among {:?}", names(&spans)));
    assert!(push
        .attributes
        .iter()
        .any(|(k, v)| k == "outcome" && v == "ok"));
    let append = spans
        .iter()
        .filter(|s| s.name == "store.append")
        .find(|s| descends_or_links(s, &push.span_id, &spans))
        .unwrap_or_else(|| panic!("no store.append under card.push in {:?}", names(&spans)));
    assert_eq!(append.trace_id, push.trace_id);
    assert!(spans
        .iter()
        .any(|s| s.name == "sqlite.group_commit" && s.links.contains(&append.span_id)));
    assert!(
        spans
            .iter()
            .any(|s| s.name.starts_with("POST /v1/sessions") || s.name.contains("/v1/sessions")),
        "HTTP requests are traced too: {:?}",
        names(&spans)
    );
}

fn names(spans: &[vitrine_tests::otlp::Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

fn descends_or_links(
    span: &vitrine_tests::otlp::Span,
    ancestor: &str,
    all: &[vitrine_tests::otlp::Span],
) -> bool {
    let mut current = Some(span);
    for _ in 0..32 {
        let Some(s) = current else { return false };
        if s.parent == ancestor || s.links.iter().any(|l| l == ancestor) {
            return true;
        }
        current = all.iter().find(|p| p.span_id == s.parent);
    }
    false
}

/// SIGTERM during load: clients are told to reconnect elsewhere (1012), the process exits
/// within its bound, and every acknowledged event is stored.
#[actix_web::test]
async fn sigterm_under_load_closes_with_1012_keeps_every_ack_and_exits_in_time() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let env = [("VITRINE_SHUTDOWN_TIMEOUT", "5s")];
    let mut server = ServerProcess::start(dir.path(), &env).await;
    let (port, api) = (server.port(), server.api.clone());
    let sessions = steady::sessions(&api, server.admin(), 6).await;
    let runs: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            steady::drive(
                api.clone(),
                s,
                40,
                Duration::from_millis(40),
                Duration::from_secs(60),
            )
        })
        .collect();

    // Act: stop the node in the middle, then start it again for the clients to finish.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let asked = std::time::Instant::now();
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(8)).await;
    let took = asked.elapsed();
    let server = ServerProcess::start_on(port, dir.path(), &env).await;
    let mut outcomes = Vec::new();
    for run in runs {
        outcomes.push(run.await.unwrap());
    }

    // Assert
    let status = status.expect("the node exits after SIGTERM");
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        took < Duration::from_secs(7),
        "exit within the bound: {took:?}"
    );
    let codes: Vec<u16> = outcomes
        .iter()
        .flat_map(|o| o.close_codes.clone())
        .collect();
    assert!(
        codes.contains(&1012),
        "clients were told to reconnect: {codes:?}"
    );
    for o in &outcomes {
        assert_eq!(o.acked.len(), 41, "{}: every command acked", o.session_id);
        o.check(&steady::log(&api, server.admin(), &o.session_id).await);
    }
}

/// JSON logs, even at debug level, never carry tokens, emails, phone numbers or chat text.
#[actix_web::test]
async fn json_logs_carry_no_tokens_contact_details_or_chat_text() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let env = [("VITRINE_LOG_FORMAT", "json"), ("RUST_LOG", "debug")];
    let mut server =
        ServerProcess::start_logging(vitrine_tests_free_port(), dir.path(), &env, Some(&log)).await;
    let api = server.api.clone();

    // Act: a session with contact details, chat and a cart.
    let created = api
        .call(
            reqwest::Method::POST,
            "/v1/sessions",
            Some(server.admin()),
            Some(
                json!({"customer": {"name": "Lía Secreta", "email": "lia.secret@example.test",
                                     "phone": "+34 600 111 222"}}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let session = created.body["session_id"].as_str().unwrap().to_owned();
    let customer_token = created.body["customer_token"].as_str().unwrap().to_owned();
    let mut customer = vitrine_tests::ws::WsClient::connect(&api).await;
    customer.hello(&customer_token, &session, None).await;
    let secret_chat = "my-very-private-chat-line-7731";
    assert!(
        customer
            .command(json!({"type": "chat.send", "text": secret_chat}))
            .await
            .ok
    );
    server.terminate();
    let _ = server.wait_exit(Duration::from_secs(10)).await;

    // Assert
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 5, "the node logged");
    for line in text.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    for secret in [
        customer_token.as_str(),
        server.admin(),
        "lia.secret@example.test",
        "600 111 222",
        secret_chat,
        "Lía Secreta",
    ] {
        assert!(!text.contains(secret), "the log carries {secret:?}");
    }
}

fn vitrine_tests_free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A port nothing listens on (bound for a moment, then let go).
fn closed_port() -> u16 {
    vitrine_tests_free_port()
}

/// A TCP endpoint that accepts connections and never reads or answers on them, like a
/// hung collector; its base URL.
fn silent_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{addr}")
}

/// With Postgres unreachable the node exits with an error that names the cause (no
/// panic, no exit code 101).
#[actix_web::test]
async fn a_node_that_cannot_reach_postgres_exits_naming_the_cause() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/x", closed_port());

    // Act
    let (status, stderr) = run_to_exit(
        dir.path(),
        &[("DATABASE_URL", url.as_str())],
        Duration::from_secs(30),
    )
    .await
    .expect("the node gives up on its own");

    // Assert
    assert!(!status.success(), "{status:?}: {stderr}");
    assert_ne!(status.code(), Some(101), "a panic: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("failed to open the Postgres store (DATABASE_URL)"),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("connection refused"),
        "the cause is named: {stderr}"
    );
}

/// A collector that accepts and never answers cannot hold the process past its shutdown
/// bound: flushing traces gets what is left of it.
#[actix_web::test]
async fn sigterm_with_a_silent_trace_collector_exits_within_the_shutdown_bound() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let endpoint = silent_endpoint();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("VITRINE_SHUTDOWN_TIMEOUT", "3s"),
    ];
    let mut server = ServerProcess::start(dir.path(), &env).await;
    let mut call = Call::start(&server.api, server.admin()).await;
    assert!(call.shopper.command(push_card("spans to flush")).await.ok);

    // Act
    let asked = std::time::Instant::now();
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(15)).await;
    let took = asked.elapsed();

    // Assert
    let status = status.expect("the node exits after SIGTERM");
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        took < Duration::from_secs(5),
        "exit within the 3 s bound and a margin: {took:?}"
    );
}

/// While a stopping node waits for a stuck append, it already refuses new connections,
/// and it still exits within its bound.
#[actix_web::test]
async fn a_stopping_node_refuses_new_connections_while_it_drains() {
    // Arrange: a node on Postgres, with its events table locked by the test.
    let schema = vitrine_persistence::postgres::testing::TestSchema::new().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", schema.url.as_str()),
        ("VITRINE_POSTGRES__SCHEMA", schema.name.as_str()),
        ("VITRINE_POSTGRES__POOL_SIZE", "6"),
        ("VITRINE_SHUTDOWN_TIMEOUT", "3s"),
    ];
    let mut server = ServerProcess::start(dir.path(), &env).await;
    let mut call = Call::start(&server.api, server.admin()).await;
    let (locker, conn) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(conn);
    locker
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {}.session_events IN ACCESS EXCLUSIVE MODE",
            schema.name
        ))
        .await
        .unwrap();
    call.shopper
        .send_text(
            &json!({"id": "stuck", "type": "card.push",
            "product_id": "cafe-creme-mug", "note": "stuck"})
            .to_string(),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act: stop, and once clients are told to go (the stop has begun), knock while it
    // drains.
    let asked = std::time::Instant::now();
    server.terminate();
    let told = call.customer.expect_close(Duration::from_secs(3)).await;
    assert_eq!(told, Some(1012), "clients are told to reconnect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut answered = Vec::new();
    let mut status = None;
    while asked.elapsed() < Duration::from_secs(10) {
        if let Ok(r) = client
            .get(format!("{}/healthz", server.api.base()))
            .send()
            .await
        {
            answered.push((asked.elapsed(), r.status().as_u16()));
        }
        status = server.wait_exit(Duration::from_millis(50)).await;
        if status.is_some() {
            break;
        }
    }
    let took = asked.elapsed();
    let _ = locker.batch_execute("ROLLBACK").await;
    drop(locker);
    let _ = connection.await;

    // Assert
    let status = status.expect("the node exits after SIGTERM");
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        !answered.iter().any(|(_, code)| *code == 200),
        "a stopping node accepted new requests: {answered:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "exit within the 3 s bound and a margin: {took:?}"
    );
}

/// Frames refused for rate are counted as commands with outcome `rate_limited`.
#[actix_web::test]
async fn rate_limited_frames_are_counted_in_the_commands_metric() {
    // Arrange: a node that allows few frames.
    let node = TestNode::start_with("[ws]\nframes_per_second = 1\nframe_burst = 4").await;
    let mut call = Call::start(&node.api, node.admin()).await;

    // Act: a burst of chat lines, more than the bucket holds.
    let ids: Vec<String> = (0..8).map(|i| format!("flood-{i}")).collect();
    for id in &ids {
        let frame = json!({"id": id, "type": "chat.send", "text": "flood"});
        call.customer.send_text(&frame.to_string()).await;
    }
    let mut limited = 0;
    for id in &ids {
        if call.customer.reply_to(id).await.code() == "rate_limited" {
            limited += 1;
        }
    }
    let answer = node
        .api
        .call(reqwest::Method::GET, "/metrics", None, None)
        .await;

    // Assert
    assert!(limited >= 1, "the burst was limited");
    let text = answer.body.as_str().expect("plain text").to_owned();
    let counted = value(
        &samples(&text),
        "vitrine_commands_total",
        &["command=\"chat.send\"", "outcome=\"rate_limited\""],
    );
    assert!(counted >= f64::from(limited), "{limited} limited: {text}");
}

/// At `RUST_LOG=debug` on Postgres, the database driver's statement logs (which carry
/// every bound value) stay out: a customer's email never reaches the log.
#[actix_web::test]
async fn debug_logs_on_postgres_carry_no_statement_parameters() {
    // Arrange
    let schema = vitrine_persistence::postgres::testing::TestSchema::new().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let env = [
        ("DATABASE_URL", schema.url.as_str()),
        ("VITRINE_POSTGRES__SCHEMA", schema.name.as_str()),
        ("VITRINE_POSTGRES__POOL_SIZE", "6"),
        ("RUST_LOG", "debug"),
    ];
    let mut server =
        ServerProcess::start_logging(vitrine_tests_free_port(), dir.path(), &env, Some(&log)).await;

    // Act: a session whose customer has an email and a phone.
    let created = server
        .api
        .call(
            reqwest::Method::POST,
            "/v1/sessions",
            Some(server.admin()),
            Some(
                json!({"customer": {"name": "Pía Oculta", "email": "pia.hidden@example.test",
                                     "phone": "+34 600 333 444"}}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    server.terminate();
    let _ = server.wait_exit(Duration::from_secs(10)).await;

    // Assert
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("DEBUG"), "the node logged at debug");
    for secret in ["pia.hidden@example.test", "600 333 444", "Pía Oculta"] {
        assert!(!text.contains(secret), "the log carries {secret:?}");
    }
}

/// With `OTEL_EXPORTER_OTLP_PROTOCOL` unset, spans go out as protobuf, the OTLP default.
#[actix_web::test]
async fn traces_are_exported_as_protobuf_unless_json_is_asked_for() {
    // Arrange
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    let mut server = ServerProcess::start(dir.path(), &env).await;

    // Act
    let mut call = Call::start(&server.api, server.admin()).await;
    assert!(call.shopper.command(push_card("encoded")).await.ok);
    server.terminate();
    assert!(server.wait_exit(Duration::from_secs(15)).await.is_some());

    // Assert
    let types = receiver.content_types();
    assert!(!types.is_empty(), "spans were exported");
    assert!(
        types.iter().all(|t| t == "application/x-protobuf"),
        "{types:?}"
    );
}

/// A session actor that stops with clients still attached (here: fenced by another node
/// that took the session) closes them with 1013 and counts them out of
/// `vitrine_connected_participants`.
#[actix_web::test]
async fn participants_of_a_fenced_session_are_counted_out() {
    // Arrange: two nodes on one Postgres schema; the customer joins on the first.
    let schema = vitrine_persistence::postgres::testing::TestSchema::new().await;
    let first = TestNode::start_postgres(&schema, "").await;
    let second = TestNode::start_postgres(&schema, "").await;
    let connected = |text: &str| value(&samples(text), "vitrine_connected_participants", &[]);
    let scrape = |node: &TestNode| {
        let api = node.api.clone();
        async move {
            let answer = api.call(reqwest::Method::GET, "/metrics", None, None).await;
            answer.body.as_str().unwrap_or_default().to_owned()
        }
    };
    let (session_id, customer_token) = first.api.widget_session("pk_demo", "Carla").await;
    let mut customer = vitrine_tests::ws::WsClient::connect(&first.api).await;
    customer.hello(&customer_token, &session_id, None).await;
    assert_eq!(connected(&scrape(&first).await), 1.0);

    // Act: the same customer joins on the second node, which claims the session; the
    // first node's actor is fenced at its next append.
    let mut moved = vitrine_tests::ws::WsClient::connect(&second.api).await;
    moved.hello(&customer_token, &session_id, None).await;
    customer
        .send_text(&json!({"id": "f1", "type": "chat.send", "text": "hola"}).to_string())
        .await;
    let closed = customer.expect_close(Duration::from_secs(10)).await;

    // Assert: closed to reconnect, and counted out (both nodes share this process's
    // registry: only the customer on the second node is left).
    assert_eq!(closed, Some(1013));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = connected(&scrape(&first).await);
        if now == 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connected participants stuck at {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
