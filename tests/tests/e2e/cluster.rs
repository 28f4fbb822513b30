//! Several `vitrine` processes on one Postgres and one Redis: participants of one session
//! on different nodes, and the owner node killed, frozen, or Redis restarted under them.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use vitrine_persistence::postgres::testing::TestSchema;
use vitrine_tests::call::{push_card, Call};
use vitrine_tests::cluster::{
    self, check, participant, three_way, Plan, Seen, Stage, TestCluster, TestRedis,
};
use vitrine_tests::http::Api;
use vitrine_tests::node::{TestNode, ADMIN_TOKEN};
use vitrine_tests::ws::WsClient;

/// A stage for participants, and the test's ends of it.
struct Run {
    stage: Stage,
    done: tokio::sync::mpsc::UnboundedReceiver<()>,
    stop: watch::Sender<u64>,
}

fn run(apis: &[Api], session: &str, limit: Duration) -> Run {
    let (done_tx, done) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(0u64);
    Run {
        stage: Stage {
            apis: apis.to_vec(),
            session: session.to_owned(),
            done: done_tx,
            stop: stop_rx,
            limit,
        },
        done,
        stop,
    }
}

/// Waits until every participant carried out its plan, then tells them the log's last seq
/// and waits for them to see it; returns what each saw (in `tasks` order) and the log up
/// to that seq.
async fn finish(
    api: &Api,
    session: &str,
    mut run: Run,
    tasks: Vec<tokio::task::JoinHandle<Seen>>,
) -> (Vec<Seen>, Vec<(u64, String, serde_json::Value)>) {
    for _ in 0..tasks.len() {
        let _ = run.done.recv().await;
    }
    let log = cluster::log(api, ADMIN_TOKEN, session).await;
    let _ = run.stop.send(log.last().map(|(s, _, _)| *s).unwrap_or(0));
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.expect("participant task"));
    }
    (seen, log)
}

/// The shopper on node 0, the customer on node 1, the invited customer on node 2: every
/// command of each is answered, and all three see the same events in the same order.
#[actix_web::test]
async fn participants_on_three_nodes_see_one_sequence() {
    // Arrange
    let cluster = TestCluster::start(3, Duration::from_secs(3)).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let r = run(&apis, &s.session_id, Duration::from_secs(60));
    let gap = Duration::from_millis(20);

    // Act: all three at once; the shopper first, so node 0 owns the session.
    let shopper = participant(
        "shopper",
        0,
        &s.shopper,
        Plan::Shopper { cards: 30 },
        gap,
        r.stage.clone(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let customer = participant(
        "customer",
        1,
        &s.customer,
        Plan::Cart { adds: 15 },
        gap,
        r.stage.clone(),
    );
    let second = participant(
        "second",
        2,
        &s.second,
        Plan::Chat { messages: 15 },
        gap,
        r.stage.clone(),
    );
    let (seen, log) = finish(&apis[0], &s.session_id, r, vec![shopper, customer, second]).await;

    // Assert: everyone's commands acknowledged, nobody reconnected, one sequence.
    assert_eq!(seen[0].acked.len(), 31, "{:?}", seen[0]);
    assert_eq!(seen[1].acked.len(), 15, "{:?}", seen[1]);
    assert_eq!(seen[2].acked.len(), 15, "{:?}", seen[2]);
    for (who, staff) in [(0, true), (1, false), (2, false)] {
        assert_eq!(
            seen[who].reconnects, 0,
            "{}: {:?}",
            seen[who].who, seen[who].close_codes
        );
        check(&seen[who], &log, staff);
    }
    // The customers' own commands came back to them as events through the owner.
    let chats = log.iter().filter(|(_, k, _)| k == "chat.message").count();
    assert_eq!(chats, 15);

    // The live state reads the same from every node: the owner's, with who is connected
    // on any node (the invited customer, back on node 2, shows as connected everywhere).
    let mut back = WsClient::connect(&apis[2]).await;
    let welcome = back.hello(&s.second, &s.session_id, None).await;
    let path = format!("/v1/sessions/{}", s.session_id);
    let deadline = Instant::now() + Duration::from_secs(10);
    let views = loop {
        let mut views = Vec::new();
        for api in &apis {
            let view = api.get(&path, ADMIN_TOKEN).await;
            assert_eq!(view.status, 200, "{:?}", view.body);
            views.push(view.body);
        }
        // Participants who just left may still be leaving: wait for one answer.
        if (views[0] == views[1] && views[0] == views[2]) || Instant::now() > deadline {
            break views;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(views[0], views[1]);
    assert_eq!(views[0], views[2]);
    let second_connected = views[0]["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["participant_id"] == welcome.participant_id.as_str())
        .map(|p| p["connected"].clone());
    assert_eq!(second_connected, Some(serde_json::json!(true)));
    assert!(views[0]["seq"].as_u64() >= log.last().map(|(s, _, _)| *s));
}

/// SIGKILL of the owner while the shopper pushes cards and both customers add to the cart:
/// another node serves the session within the lease period and 2 s, and nothing acked is
/// lost or doubled for anyone.
#[actix_web::test]
async fn a_killed_owner_is_replaced_and_nothing_acknowledged_is_lost() {
    // Arrange
    let lease = Duration::from_secs(2);
    let mut cluster = TestCluster::start(3, lease).await;
    let apis = cluster.apis();
    let s = three_way(&apis[1], ADMIN_TOKEN, 0).await;
    let r = run(&apis, &s.session_id, Duration::from_secs(90));
    let gap = Duration::from_millis(30);

    // Act
    let shopper = participant(
        "shopper",
        0,
        &s.shopper,
        Plan::Shopper { cards: 80 },
        gap,
        r.stage.clone(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let customer = participant(
        "customer",
        1,
        &s.customer,
        Plan::Cart { adds: 16 },
        Duration::from_millis(80),
        r.stage.clone(),
    );
    let second = participant(
        "second",
        2,
        &s.second,
        Plan::Cart { adds: 12 },
        Duration::from_millis(110),
        r.stage.clone(),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.nodes[0].kill();
    let killed = Instant::now();
    let (seen, log) = finish(&apis[1], &s.session_id, r, vec![shopper, customer, second]).await;

    // Assert: the session ran elsewhere soon after the kill.
    let first_ack_after = seen
        .iter()
        .flat_map(|s| s.acked_at.iter())
        .filter(|(_, at)| *at > killed)
        .map(|(_, at)| at.duration_since(killed))
        .min()
        .expect("commands were acknowledged after the kill");
    assert!(
        first_ack_after <= lease + Duration::from_secs(2),
        "the session ran again only {first_ack_after:?} after the kill"
    );
    assert_eq!(
        seen[0].acked.len(),
        81,
        "every card acked: {:?}",
        seen[0].close_codes
    );
    assert_eq!(seen[1].acked.len(), 16, "every add acked");
    assert_eq!(seen[2].acked.len(), 12, "every add acked");
    assert!(seen[0].reconnects > 0, "the shopper was on the killed node");
    // Each acked card is in the log exactly once.
    let notes: Vec<&str> = log
        .iter()
        .filter(|(_, k, _)| k == "product.shared")
        .filter_map(|(_, _, d)| d["note"].as_str())
        .collect();
    let mut unique = notes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), notes.len(), "a card was stored twice");
    assert_eq!(notes.len(), 80);
    // Each acked add is in the cart once.
    let view = apis[1]
        .get(&format!("/v1/sessions/{}", s.session_id), ADMIN_TOKEN)
        .await;
    let units: i64 = view.body["cart"]["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["quantity"].as_i64())
        .sum();
    // The demo mug has 30 in stock.
    assert_eq!(units, 28, "{:?}", view.body["cart"]);
    check(&seen[0], &log, true);
    check(&seen[1], &log, false);
    check(&seen[2], &log, false);
}

/// The owner frozen (SIGSTOP) past its lease: another node takes the session. Thawed
/// (SIGCONT), the old owner's connections are moved off, and no seq is written twice.
#[actix_web::test]
async fn a_frozen_owner_is_fenced_and_its_clients_move_off() {
    // Arrange
    let lease = Duration::from_secs(2);
    let cluster = TestCluster::start(3, lease).await;
    let apis = cluster.apis();
    let s = three_way(&apis[1], ADMIN_TOKEN, 0).await;
    let r = run(&apis, &s.session_id, Duration::from_secs(90));

    // A second connection of the shopper stays on node 0 throughout.
    let mut stale = vitrine_tests::ws::WsClient::connect(&apis[0]).await;
    stale.hello(&s.shopper, &s.session_id, None).await;

    // Act
    let shopper = participant(
        "shopper",
        0,
        &s.shopper,
        Plan::Shopper { cards: 60 },
        Duration::from_millis(40),
        r.stage.clone(),
    );
    let customer = participant(
        "customer",
        1,
        &s.customer,
        Plan::Cart { adds: 20 },
        Duration::from_millis(100),
        r.stage.clone(),
    );
    let second = participant(
        "second",
        2,
        &s.second,
        Plan::Read,
        Duration::from_millis(40),
        r.stage.clone(),
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    cluster.nodes[0].signal("STOP");
    // The stale connection asks for something the frozen node cannot act on yet.
    stale
        .send_text(r#"{"id":"stale-chat","type":"chat.send","text":"sent while frozen"}"#)
        .await;
    tokio::time::sleep(lease * 3).await;
    cluster.nodes[0].signal("CONT");

    // Assert: the old owner's connection is told to reconnect elsewhere.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stale.closed.is_none() && Instant::now() < deadline {
        let _ = stale.next_frame(Duration::from_millis(200)).await;
    }
    assert_eq!(stale.closed, Some(1013), "the old owner's client moves off");
    // The stale command's outcome is unknown to its client (its connection moved off, or
    // it was answered `unavailable`): retried with the same id through another node, it
    // takes effect exactly once, whatever happened to the first try.
    let stale_reply = stale.replies.iter().find(|r| r.id == "stale-chat").cloned();
    if let Some(r) = &stale_reply {
        assert!(!r.ok || r.seq.is_some(), "{r:?}");
    }
    let mut retry = WsClient::connect(&apis[2]).await;
    retry.hello(&s.shopper, &s.session_id, None).await;
    let retried = retry
        .command(serde_json::json!({"id": "stale-chat", "type": "chat.send", "text": "sent while frozen"}))
        .await;
    assert!(retried.ok, "{retried:?}");
    if let Some(r) = stale_reply.filter(|r| r.ok) {
        assert_eq!(r.seq, retried.seq, "the retry gets the first try's reply");
    }
    drop(retry);

    let (seen, log) = finish(&apis[1], &s.session_id, r, vec![shopper, customer, second]).await;
    let stale_stored: Vec<u64> = log
        .iter()
        .filter(|(_, k, d)| k == "chat.message" && d["text"] == "sent while frozen")
        .map(|(seq, _, _)| *seq)
        .collect();
    assert_eq!(
        stale_stored,
        vec![retried.seq.unwrap()],
        "stored once, at the acked seq"
    );
    assert_eq!(seen[0].acked.len(), 61);
    assert_eq!(seen[1].acked.len(), 20);
    check(&seen[0], &log, true);
    check(&seen[1], &log, false);
    check(&seen[2], &log, false);
}

/// Redis killed and started again (empty) during live sessions: every session still
/// delivers every event to every participant.
#[actix_web::test]
async fn a_redis_restart_skips_nothing() {
    // Arrange
    let mut cluster = TestCluster::start(3, Duration::from_secs(3)).await;
    let apis = cluster.apis();
    let mut sessions = Vec::new();
    for (n, api) in apis.iter().enumerate() {
        sessions.push(three_way(api, ADMIN_TOKEN, n).await);
    }

    // Act
    let mut runs = Vec::new();
    for (n, s) in sessions.iter().enumerate() {
        let r = run(&apis, &s.session_id, Duration::from_secs(90));
        let shopper = participant(
            &format!("shopper{n}"),
            n,
            &s.shopper,
            Plan::Shopper { cards: 60 },
            Duration::from_millis(40),
            r.stage.clone(),
        );
        let customer = participant(
            &format!("customer{n}"),
            n + 1,
            &s.customer,
            Plan::Chat { messages: 30 },
            Duration::from_millis(80),
            r.stage.clone(),
        );
        let second = participant(
            &format!("second{n}"),
            n + 2,
            &s.second,
            Plan::Read,
            Duration::from_millis(40),
            r.stage.clone(),
        );
        runs.push((vec![shopper, customer, second], r));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let restarted = Instant::now();
    cluster.redis.restart(Duration::from_millis(300));

    // Assert
    for ((tasks, r), s) in runs.into_iter().zip(&sessions) {
        let (seen, log) = finish(&apis[0], &s.session_id, r, tasks).await;
        assert_eq!(seen[0].acked.len(), 61, "{}", seen[0].who);
        assert_eq!(seen[1].acked.len(), 30, "{}", seen[1].who);
        // Nobody was cut off or taken for gone: no node declared another dead while
        // Redis was empty, and no owner fell silent for a lease.
        for who in &seen {
            assert_eq!(who.reconnects, 0, "{}: {:?}", who.who, who.close_codes);
        }
        assert!(
            log.iter().all(|(_, kind, _)| kind != "participant.left"),
            "a participant was taken for gone"
        );
        // The session was live across the restart.
        let acks = &seen[0].acked_at;
        assert!(
            acks.iter().any(|(_, at)| *at < restarted),
            "{}",
            seen[0].who
        );
        assert!(acks
            .iter()
            .any(|(_, at)| *at > restarted + Duration::from_millis(300)));
        check(&seen[0], &log, true);
        check(&seen[1], &log, false);
        check(&seen[2], &log, false);
    }
}

/// Deletes the session's lease, as when it lapsed unnoticed, and joins the call's customer
/// through `api`, whose node then claims the session; the old owner is not told.
async fn claim_behind_owners_back(redis: &TestRedis, api: &Api, call: &Call) -> WsClient {
    let lease_key = format!("vitrine:lease:demo:{}", call.session_id);
    let deleted = std::process::Command::new("redis-cli")
        .args(["-u", &redis.url(), "DEL", &lease_key])
        .output()
        .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&deleted.stdout).trim(), "1");
    let mut client = WsClient::connect(api).await;
    client
        .hello(&call.customer_token, &call.session_id, None)
        .await;
    client
}

/// A node whose lease was taken cannot append, even before it notices: the store fences
/// its append, its command is refused, its clients are moved off, and the log stays whole.
#[actix_web::test]
async fn a_node_that_lost_its_lease_cannot_append() {
    // Arrange: two nodes in this process; a long lease, so only fencing can stop node A.
    let redis = TestRedis::start();
    let schema = TestSchema::new().await;
    let toml = format!("[redis]\nurl = {:?}\nlease = \"60s\"\n", redis.url());
    let a = TestNode::start_postgres(&schema, &toml).await;
    let b = TestNode::start_postgres(&schema, &toml).await;
    let mut call = Call::start(&a.api, ADMIN_TOKEN).await;
    let pushed = call.shopper.command(push_card("while A owns it")).await;
    assert!(pushed.ok, "{pushed:?}");

    // Act: the lease disappears behind A's back, and B claims the session.
    let _on_b = claim_behind_owners_back(&redis, &b.api, &call).await;
    let mut frame = push_card("from the old owner");
    frame["id"] = serde_json::json!("old-owner-push");
    call.shopper.send_text(&frame.to_string()).await;

    // Assert: refused (or cut off before its reply), and the connection moved off.
    let deadline = Instant::now() + Duration::from_secs(5);
    while call.shopper.closed.is_none() && Instant::now() < deadline {
        let _ = call.shopper.next_frame(Duration::from_millis(100)).await;
    }
    if let Some(reply) = call
        .shopper
        .replies
        .iter()
        .find(|r| r.id == "old-owner-push")
    {
        assert!(
            !reply.ok,
            "the old owner's append must be fenced: {reply:?}"
        );
        assert_eq!(reply.code(), "unavailable");
    }
    assert_eq!(
        call.shopper.closed,
        Some(1013),
        "the old owner's clients move off"
    );
    let log = cluster::log(&b.api, ADMIN_TOKEN, &call.session_id).await;
    assert!(log
        .iter()
        .all(|(_, _, d)| d["note"] != "from the old owner"));
    let seqs: Vec<u64> = log.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // Through B the session goes on.
    let mut shopper = WsClient::connect(&b.api).await;
    shopper
        .hello(&call.shopper_token, &call.session_id, None)
        .await;
    let again = shopper.command(push_card("from the new owner")).await;
    assert!(again.ok, "{again:?}");
}

/// An old owner that has not yet noticed it lost its session must not change the real
/// cart either: commerce is written before the append that the store fences, so a cart
/// change there would reach the order while no event records it.
#[actix_web::test]
async fn a_node_that_lost_its_lease_does_not_touch_the_cart() {
    // Arrange: two nodes, a long lease, one unit in the cart through node A.
    let redis = TestRedis::start();
    let schema = TestSchema::new().await;
    let toml = format!("[redis]\nurl = {:?}\nlease = \"60s\"\n", redis.url());
    let a = TestNode::start_postgres(&schema, &toml).await;
    let b = TestNode::start_postgres(&schema, &toml).await;
    let mut call = Call::start(&a.api, ADMIN_TOKEN).await;
    let add = |quantity: u32| {
        serde_json::json!({"type": "cart.add", "variant_id": vitrine_tests::call::demo::PLENTIFUL,
            "quantity": quantity})
    };
    let first = call.customer.command(add(1)).await;
    assert!(first.ok, "{first:?}");

    // Act: B claims the session behind A's back; A's customer adds two more.
    let mut on_b = claim_behind_owners_back(&redis, &b.api, &call).await;
    let mut late = add(2);
    late["id"] = serde_json::json!("old-owner-add");
    call.customer.send_text(&late.to_string()).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while call.customer.closed.is_none()
        && !call
            .customer
            .replies
            .iter()
            .any(|r| r.id == "old-owner-add")
        && Instant::now() < deadline
    {
        let _ = call.customer.next_frame(Duration::from_millis(100)).await;
    }
    let order = on_b.command(serde_json::json!({"type": "checkout"})).await;

    // Assert: the old owner refused, and the order holds the one unit the log knows of.
    if let Some(reply) = call
        .customer
        .replies
        .iter()
        .find(|r| r.id == "old-owner-add")
    {
        assert_eq!(reply.code(), "unavailable", "{reply:?}");
    }
    assert!(order.ok, "{order:?}");
    let units: u64 = order.data["order"]["lines"]
        .as_array()
        .expect("order lines")
        .iter()
        .map(|l| l["quantity"].as_u64().expect("quantity"))
        .sum();
    assert_eq!(
        units, 1,
        "the order matches the cart the log records: {order:?}"
    );
}

/// A participant on a node that died shows as disconnected within about a lease period;
/// back through another node it is listed once, connected.
#[actix_web::test]
async fn participants_of_a_dead_node_leave_and_come_back_once() {
    // Arrange
    let lease = Duration::from_secs(2);
    let mut cluster = TestCluster::start(3, lease).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let mut shopper = WsClient::connect(&apis[0]).await;
    shopper.hello(&s.shopper, &s.session_id, None).await;
    let mut customer = WsClient::connect(&apis[2]).await;
    let welcome = customer.hello(&s.customer, &s.session_id, None).await;
    let me = welcome.participant_id.clone();
    let connected = |view: &serde_json::Value| -> Vec<bool> {
        view["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["participant_id"] == me.as_str())
            .map(|p| p["connected"].as_bool().unwrap_or(false))
            .collect()
    };
    let path = format!("/v1/sessions/{}", s.session_id);
    assert_eq!(
        connected(&apis[0].get(&path, ADMIN_TOKEN).await.body),
        vec![true]
    );

    // Act
    cluster.nodes[2].kill();
    let killed = Instant::now();
    let mut gone_after = None;
    while killed.elapsed() < Duration::from_secs(10) {
        if connected(&apis[0].get(&path, ADMIN_TOKEN).await.body) == vec![false] {
            gone_after = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut back = WsClient::connect(&apis[1]).await;
    back.hello(&s.customer, &s.session_id, Some(welcome.seq))
        .await;

    // Assert
    let gone_after = gone_after.expect("the customer was shown as disconnected");
    assert!(
        gone_after <= lease + Duration::from_millis(1500),
        "shown disconnected only after {gone_after:?}"
    );
    for api in &apis[..2] {
        assert_eq!(
            connected(&api.get(&path, ADMIN_TOKEN).await.body),
            vec![true]
        );
    }
    let _ = shopper.command(serde_json::json!({"type": "ping"})).await;
}

/// A command forwarded to the owner is one trace: the forwarding node's `card.push` span
/// is the parent of the owner's, under which the store append runs.
#[actix_web::test]
async fn a_forwarded_command_is_one_trace_across_both_nodes() {
    // Arrange
    let receiver = vitrine_tests::otlp::Receiver::start();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    let mut cluster = TestCluster::start_with(2, Duration::from_secs(3), &env).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let mut customer = WsClient::connect(&apis[0]).await;
    customer.hello(&s.customer, &s.session_id, None).await;
    let mut shopper = WsClient::connect(&apis[1]).await;
    shopper.hello(&s.shopper, &s.session_id, None).await;

    let started = shopper
        .command(serde_json::json!({"type": "session.start"}))
        .await;
    assert!(started.ok, "{started:?}");

    // Act: the shopper's push goes through node 1 to node 0, which owns the session.
    let pushed = shopper.command(push_card("traced across nodes")).await;
    assert!(pushed.ok, "{pushed:?}");
    for node in &mut cluster.nodes {
        node.terminate();
        assert!(node.wait_exit(Duration::from_secs(15)).await.is_some());
    }

    // Assert
    let spans = receiver.spans();
    let pushes: Vec<_> = spans.iter().filter(|s| s.name == "card.push").collect();
    let (hop, owner) = pushes
        .iter()
        .flat_map(|a| pushes.iter().map(move |b| (a, b)))
        .find(|(a, b)| b.parent == a.span_id && b.trace_id == a.trace_id)
        .unwrap_or_else(|| panic!("no card.push span under another: {pushes:?}"));
    assert!(
        hop.parent.is_empty(),
        "the forwarding hop is the trace's root"
    );
    let mut under_owner = spans
        .iter()
        .filter(|s| s.name == "store.append" && s.trace_id == owner.trace_id);
    assert!(
        under_owner.next().is_some(),
        "the append is in the same trace"
    );
    // Redis calls are traced too: taking the lease, publishing, the keeper's renewals.
    for name in ["redis.place", "redis.publish", "redis.renew", "redis.claim"] {
        assert!(
            spans.iter().any(|s| s.name == name),
            "no {name} span among {:?}",
            spans
                .iter()
                .map(|s| &s.name)
                .collect::<std::collections::BTreeSet<_>>()
        );
    }
}

/// Garbage on a node's inbox and on a session's channel (broken JSON, wrong shapes, bytes
/// that are not UTF-8, a megabyte, right-to-left and emoji text, notes from a stranger)
/// is ignored: the nodes keep serving the session, in order.
#[actix_web::test]
async fn garbage_on_redis_channels_is_ignored() {
    // Arrange
    let cluster = TestCluster::start(2, Duration::from_secs(3)).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let mut shopper = WsClient::connect(&apis[0]).await;
    shopper.hello(&s.shopper, &s.session_id, None).await;
    let mut customer = WsClient::connect(&apis[1]).await;
    customer.hello(&s.customer, &s.session_id, None).await;
    let started = shopper
        .command(serde_json::json!({"type": "session.start"}))
        .await;
    assert!(started.ok);
    let url = cluster.redis.url();
    let redis = |args: &[&str]| {
        std::process::Command::new("redis-cli")
            .arg("-u")
            .arg(&url)
            .args(args)
            .output()
            .expect("redis-cli")
    };
    // Publishes raw bytes, given on stdin (`-x`): any size, any bytes.
    let publish = |channel: &str, payload: &[u8]| {
        use std::io::Write as _;
        let mut child = std::process::Command::new("redis-cli")
            .args(["-u", &url, "-x", "PUBLISH", channel])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-cli");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(payload)
            .expect("write");
        let _ = child.wait();
    };
    let nodes = String::from_utf8_lossy(&redis(&["SMEMBERS", "vitrine:nodes"]).stdout).into_owned();
    let nodes: Vec<&str> = nodes.split_whitespace().collect();
    assert_eq!(nodes.len(), 2, "{nodes:?}");

    // Act
    let big = "x".repeat(1024 * 1024);
    let events = format!("vitrine:events:demo:{}", s.session_id);
    let mut junk: Vec<Vec<u8>> = [
        "",
        "{",
        "null",
        r#"{"t":"request","from":"nod_x","corr":1,"request":{"op":"execute"}}"#,
        r#"{"t":"reply","corr":18446744073709551615,"reply":{"r":"command","reply":{}}}"#,
        "{\"t\":\"leave\",\"from\":\"\u{202e}nod_evil\",\"key\":{\"tenant\":\"demo\",\"session\":\"ses_x\"},\"conn\":1}",
        r#"{"t":"evicted","key":{"tenant":"demo","session":"🦤🦤🦤"}}"#,
        big.as_str(),
    ]
    .iter()
    .map(|j| j.as_bytes().to_vec())
    .collect();
    junk.push(vec![0xff, 0xfe, 0x00, 0xc3]);
    for node in &nodes {
        let inbox = format!("vitrine:inbox:{node}");
        for j in &junk {
            publish(&inbox, j);
        }
    }
    let notes: Vec<Vec<u8>> = [
        "e 999999 a {}".to_owned(),
        "e 1 s not-json".to_owned(),
        "h 999999 nod_stranger".to_owned(),
        "m nod_stranger".to_owned(),
        "e -4 a x".to_owned(),
        format!("e 5 a {big}"),
        "e 7 a {\"type\":\"event\",\"seq\":8,\"data\":\"مرحبا\"}".to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .chain(junk.iter().cloned())
    .collect();
    for note in &notes {
        publish(&events, note);
    }

    // Assert: both nodes still serve the session, and the customer sees every event once.
    let before = customer.events.len();
    for i in 0..5 {
        let pushed = shopper
            .command(push_card(&format!("after the junk {i}")))
            .await;
        assert!(pushed.ok, "{pushed:?}");
    }
    let added = customer
        .command(serde_json::json!({"type": "cart.add", "variant_id": vitrine_tests::call::demo::PLENTIFUL, "quantity": 1}))
        .await;
    assert!(added.ok, "{added:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while customer.events.len() < before + 6 && Instant::now() < deadline {
        let _ = customer.next_frame(Duration::from_millis(100)).await;
    }
    let seqs: Vec<u64> = customer.events.iter().map(|e| e.seq).collect();
    let mut sorted = seqs.clone();
    sorted.dedup();
    assert_eq!(sorted, seqs, "no event twice");
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, no gap: {seqs:?}"
    );
    assert!(customer.events.len() >= before + 6, "{seqs:?}");
    assert_eq!(customer.closed, None);
}

/// A node that cannot reach Redis says it is not ready (it could not seat participants of
/// sessions it does not run), and is ready again once Redis is back.
#[actix_web::test]
async fn a_node_without_redis_is_not_ready() {
    // Arrange
    let mut cluster = TestCluster::start(1, Duration::from_secs(3)).await;
    let api = cluster.apis().remove(0);
    let ready = |api: Api| async move {
        let r = reqwest::get(format!("{}/readyz", api.base()))
            .await
            .expect("readyz");
        let status = r.status().as_u16();
        (
            status,
            r.json::<serde_json::Value>().await.unwrap_or_default(),
        )
    };
    assert_eq!(ready(api.clone()).await.0, 200);

    // Act
    cluster.redis.stop();
    let down = ready(api.clone()).await;
    cluster.redis.start_again();

    // Assert
    assert_eq!(down.0, 503, "{:?}", down.1);
    assert_eq!(down.1["status"], "unavailable");
    assert!(down.1["redis"].is_string(), "{:?}", down.1);
    assert!(down.1.get("store").is_none(), "{:?}", down.1);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut back = ready(api.clone()).await;
    while back.0 != 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        back = ready(api.clone()).await;
    }
    assert_eq!(back.0, 200, "{:?}", back.1);
}

/// The owner publishes each stored event once on the session's channel, however many
/// participants other nodes have (here three, on two other nodes).
#[actix_web::test]
async fn the_owner_publishes_each_event_once() {
    // Arrange
    let cluster = TestCluster::start(3, Duration::from_secs(3)).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let mut shopper = WsClient::connect(&apis[0]).await;
    shopper.hello(&s.shopper, &s.session_id, None).await;
    let mut remote = Vec::new();
    for (api, token) in [
        (&apis[1], &s.customer),
        (&apis[1], &s.second),
        (&apis[2], &s.customer),
    ] {
        let mut c = WsClient::connect(api).await;
        c.hello(token, &s.session_id, None).await;
        remote.push(c);
    }
    let channel = format!("vitrine:events:demo:{}", s.session_id);
    let mut listener = tokio::process::Command::new("redis-cli")
        .args(["-u", &cluster.redis.url(), "SUBSCRIBE", &channel])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-cli");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Act
    let started = shopper
        .command(serde_json::json!({"type": "session.start"}))
        .await;
    assert!(started.ok);
    let mut seqs = vec![started.seq.unwrap()];
    for i in 0..10 {
        let pushed = shopper.command(push_card(&format!("once {i}"))).await;
        seqs.push(pushed.seq.unwrap());
    }
    for c in &mut remote {
        while c.events.last().map(|e| e.seq) < seqs.last().copied() {
            assert!(
                c.next_frame(Duration::from_secs(5)).await.is_some(),
                "events arrive"
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = listener.start_kill();
    let output = listener.wait_with_output().await.expect("redis-cli output");

    // Assert: one note per event.
    let text = String::from_utf8_lossy(&output.stdout);
    let mut published: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("e "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    published.retain(|seq| seqs.contains(seq));
    assert_eq!(published, seqs, "each event once, in order");
}

/// A node stopped with SIGTERM leaves the cluster: its announcement and its leases are
/// gone at once, and another node takes its session without waiting for a lease.
#[actix_web::test]
async fn a_stopped_node_leaves_the_cluster_at_once() {
    // Arrange: a long lease, so only leaving explains a quick takeover.
    let mut cluster = TestCluster::start(2, Duration::from_secs(30)).await;
    let apis = cluster.apis();
    let s = three_way(&apis[0], ADMIN_TOKEN, 0).await;
    let mut shopper = WsClient::connect(&apis[0]).await;
    shopper.hello(&s.shopper, &s.session_id, None).await;
    let started = shopper
        .command(serde_json::json!({"type": "session.start"}))
        .await;
    assert!(started.ok, "{started:?}");
    let url = cluster.redis.url();
    let redis = |args: &[&str]| -> String {
        let out = std::process::Command::new("redis-cli")
            .arg("-u")
            .arg(&url)
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let lease = format!("vitrine:lease:demo:{}", s.session_id);
    let owner = redis(&["GET", &lease]);
    let node = owner.split('|').next().unwrap_or_default().to_owned();
    assert!(node.starts_with("nod_"), "{owner:?}");
    assert_eq!(redis(&["SISMEMBER", "vitrine:nodes", &node]), "1");

    // Act
    cluster.nodes[0].terminate();
    assert!(cluster.nodes[0]
        .wait_exit(Duration::from_secs(15))
        .await
        .is_some());
    let mut moved = WsClient::connect(&apis[1]).await;
    let started = Instant::now();
    moved.hello(&s.shopper, &s.session_id, None).await;
    let pushed = moved.command(push_card("after the stop")).await;

    // Assert
    assert!(pushed.ok, "{pushed:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(redis(&["EXISTS", &format!("vitrine:node:{node}")]), "0");
    assert_eq!(redis(&["SISMEMBER", "vitrine:nodes", &node]), "0");
    let new_owner = redis(&["GET", &lease]);
    assert!(!new_owner.starts_with(&node), "{new_owner:?}");
}
