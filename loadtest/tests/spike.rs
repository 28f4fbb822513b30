//! A small spike against a node in this process. The report's accounting must be exact
//! and add up with what the commands' replies said; no timing is asserted, so the test
//! holds on a busy two-core machine.

use vitrine_loadtest::{run, Plan, Report};
use vitrine_tests::node::TestNode;

/// Runs a plan on a runtime of its own (the node runs on the test's actix system) and
/// waits for its report without blocking that system.
async fn run_elsewhere(plan: Plan) -> Report {
    start_elsewhere(plan)
        .await
        .expect("the load test thread sends its result")
        .expect("the run completes")
}

/// Starts a plan on a runtime of its own; the receiver yields its result.
fn start_elsewhere(plan: Plan) -> tokio::sync::oneshot::Receiver<anyhow::Result<Report>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the load test");
        let _ = tx.send(runtime.block_on(run(plan, None)));
    });
    rx
}

fn delivered_expected(report: &Report, kind: &str) -> u64 {
    report
        .delivery
        .by_kind
        .iter()
        .find(|k| k.kind == kind)
        .map_or(0, |k| k.tally.expected)
}

fn succeeded(report: &Report, tx: &str) -> u64 {
    report.transaction(tx).map_or(0, |t| t.count - t.failures)
}

/// 50 sessions of a shopper and two customers, with cards, chat, cart changes and
/// checkouts: every participant gets every event exactly once, and each event a command
/// produced is expected once per participant.
#[actix_web::test]
async fn a_small_spike_accounts_for_every_delivery_exactly() {
    // Arrange: a fresh node and a plan with every behaviour in it.
    let node = TestNode::start().await;
    let plan = Plan::from_words([
        "spike",
        "--target",
        node.api.base(),
        "--admin-token",
        node.admin(),
        "--sessions",
        "50",
        "--participants",
        "3",
        "--within",
        "2s",
        "--duration",
        "4s",
        "--card-interval",
        "250ms",
        "--chat-interval",
        "1s",
        "--cart-interval",
        "1s",
        "--checkout-fraction",
        "0.2",
        "--shoppers",
        "10",
        "--progress-interval",
        "off",
    ])
    .expect("a valid plan");

    // Act
    let report = run_elsewhere(plan).await;

    // Assert: everyone joined, everything drained, and the count is exact.
    let c = &report.connections;
    assert_eq!((c.planned, c.joined, c.failed), (150, 150, 0), "{c:?}");
    assert_eq!(c.sessions_started, 50);
    assert!(report.run.drained);
    assert!(report.run.logs_checked);
    assert_eq!(report.run.events_only_in_logs, 0);
    let t = &report.delivery.total;
    assert!(t.expected > 0);
    assert_eq!(t.delivered, t.expected, "{t:?}");
    assert_eq!(
        (t.missing, t.duplicates, t.reordered, t.unexpected),
        (0, 0, 0, 0)
    );
    assert!(report.verdict.exact, "{:?}", report.verdict.problems);
    assert!(report.verdict.consistent);

    // The per-kind rows add up to the total.
    let sum: u64 = report
        .delivery
        .by_kind
        .iter()
        .map(|k| k.tally.expected)
        .sum();
    assert_eq!(sum, t.expected);

    // Each acknowledged command's event is expected once per participant, the sender
    // included: traffic starts only once everyone is in.
    for (kind, tx) in [
        ("product.shared", "card.push"),
        ("chat.message", "chat.send"),
        ("cart.updated", "cart.add / set_quantity"),
        ("order.created", "checkout"),
    ] {
        let acked = succeeded(&report, tx);
        assert!(acked > 0, "no {tx} succeeded");
        assert_eq!(delivered_expected(&report, kind), acked * 3, "{kind}");
    }
    assert_eq!(
        succeeded(&report, "checkout"),
        10,
        "one checkout per checkout session"
    );

    // Nothing failed, and latencies were measured (their values are not judged).
    let failures: u64 = report.transactions.iter().map(|t| t.failures).sum();
    assert_eq!(failures, 0, "{:?}", report.errors);
    assert!(report.closes.is_empty(), "{:?}", report.closes);
    // One latency sample per command and other participant; the values are not judged.
    for (kind, tx) in [
        ("product.shared", "card.push"),
        ("chat.message", "chat.send"),
    ] {
        let row = report
            .fanout
            .iter()
            .find(|r| r.kind == kind)
            .expect("a fan-out row");
        assert_eq!(row.latency.count, succeeded(&report, tx) * 2, "{kind}");
    }
}

/// A small plan against `node`, with the given extra flags.
fn small_plan(node: &TestNode, extra: &[&str]) -> Plan {
    let mut words = vec![
        "spike",
        "--target",
        node.api.base(),
        "--admin-token",
        node.admin(),
        "--sessions",
        "2",
        "--participants",
        "2",
        "--within",
        "1s",
        "--card-interval",
        "250ms",
        "--drain-timeout",
        "2s",
        "--progress-interval",
        "off",
    ];
    words.extend_from_slice(extra);
    Plan::from_words(words).expect("a valid plan")
}

/// A server that goes away during the traffic still leaves a report: the logs that
/// could not be read back are named in the verdict instead of failing the run.
#[actix_web::test]
async fn a_server_stopped_mid_run_still_leaves_a_report() {
    // Arrange
    let node = TestNode::start().await;
    let plan = small_plan(&node, &["--duration", "4s"]);

    // Act: stop the node once the traffic runs.
    let result = start_elsewhere(plan);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2500)).await;
    node.stop().await;
    let report = result
        .await
        .expect("the load test thread sends its result")
        .expect("the run still produces a report");

    // Assert
    assert!(!report.run.logs_checked);
    assert!(!report.verdict.exact);
    assert!(
        report
            .verdict
            .problems
            .iter()
            .any(|p| p.contains("logs could not be read back")),
        "{:?}",
        report.verdict.problems
    );
}

/// A run cut off by --max-run-time before its traffic ends is not exact, and its
/// traffic time is what actually ran.
#[actix_web::test]
async fn a_run_cut_short_by_max_run_time_is_not_exact() {
    // Arrange
    let node = TestNode::start().await;
    let plan = small_plan(&node, &["--duration", "60s", "--max-run-time", "3s"]);

    // Act
    let report = run_elsewhere(plan).await;

    // Assert
    assert!(!report.verdict.exact);
    assert!(
        report
            .verdict
            .problems
            .iter()
            .any(|p| p.contains("--max-run-time")),
        "{:?}",
        report.verdict.problems
    );
    assert!(
        (0.0..=3.0).contains(&report.run.traffic_seconds),
        "{}",
        report.run.traffic_seconds
    );
}
