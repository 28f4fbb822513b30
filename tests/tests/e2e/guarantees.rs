//! The eight guarantees of the protocol, each over real sockets.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use vitrine_tests::call::{demo, push_card, Call};
use vitrine_tests::node::TestNode;
use vitrine_tests::ws::WsClient;
use vitrine_tests::PATIENCE;

fn consecutive(seqs: &[u64]) -> bool {
    seqs.windows(2).all(|w| w[1] == w[0] + 1)
}

/// Guarantee 1: every participant receives the session's events in seq order, without
/// gaps or duplicates, even when several participants send at once without waiting.
#[actix_web::test]
async fn order_every_participant_sees_one_gapless_sequence() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let mut other = call.second_customer_connection(&node.api).await;

    // Everyone sends without waiting for replies.
    let mut ids = Vec::new();
    for i in 0..40 {
        let id = call.shopper.new_id();
        let mut f = push_card(&format!("card {i}"));
        f["id"] = json!(id);
        call.shopper.send_text(&f.to_string()).await;
        ids.push(("shopper", id));
        let id = call.customer.new_id();
        call.customer
            .send_text(
                &json!({"id": id, "type": "chat.send", "text": format!("c1 {i}")}).to_string(),
            )
            .await;
        ids.push(("customer", id));
        let id = other.new_id();
        other
            .send_text(
                &json!({"id": id, "type": "chat.send", "text": format!("c2 {i}")}).to_string(),
            )
            .await;
        ids.push(("other", id));
    }
    let mut last = 0;
    for (who, id) in &ids {
        let client = match *who {
            "shopper" => &mut call.shopper,
            "customer" => &mut call.customer,
            _ => &mut other,
        };
        let reply = client.reply_to(id).await;
        assert!(reply.ok, "{reply:?}");
        last = last.max(reply.seq.unwrap());
    }

    for client in [&mut call.shopper, &mut call.customer, &mut other] {
        assert!(client.wait_for_seq(last).await);
    }
    let tail = |c: &WsClient| -> Vec<(u64, String)> {
        c.events
            .iter()
            .filter(|e| e.kind == "product.shared" || e.kind == "chat.message")
            .map(|e| (e.seq, e.kind.clone()))
            .collect()
    };
    for c in [&call.shopper, &call.customer, &other] {
        assert!(consecutive(&c.seqs()), "{:?}", c.seqs());
    }
    assert_eq!(tail(&call.shopper).len(), 120);
    assert_eq!(tail(&call.shopper), tail(&call.customer));
    assert_eq!(tail(&call.customer), tail(&other));
}

/// Guarantee 2: an event is sent and its command acked only once it is stored; the log
/// read right after each reply or event already holds it.
/// Replies come in the order of their commands, also for a burst that one group commit
/// stores at once (and whatever arrives via another node: the order is kept at the socket).
#[actix_web::test]
async fn order_replies_come_in_the_order_of_their_commands() {
    // Arrange
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;

    // Act: 150 commands back to back, without waiting.
    let ids: Vec<String> = (0..150).map(|i| format!("burst-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let frame = json!({"id": id, "type": "chat.send", "text": format!("message {i} ✓")});
        call.customer.send_text(&frame.to_string()).await;
    }
    let deadline = std::time::Instant::now() + PATIENCE;
    while call.customer.replies.len() < ids.len() && std::time::Instant::now() < deadline {
        let _ = call.customer.next_frame(Duration::from_millis(200)).await;
    }

    // Assert
    let got: Vec<&str> = call
        .customer
        .replies
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(call.customer.replies.iter().all(|r| r.ok));
    // ...and the session ran them in the order they were sent.
    let seqs: Vec<u64> = call
        .customer
        .replies
        .iter()
        .map(|r| r.seq.expect("a stored chat message has a seq"))
        .collect();
    assert!(consecutive(&seqs), "seqs out of sending order: {seqs:?}");
}

#[actix_web::test]
async fn durability_acked_and_delivered_events_are_already_in_the_store() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let store = node.state.engine.store().clone();
    let tenant = vitrine_persistence::model::TenantId::new("demo");
    let session = vitrine_persistence::model::SessionId::new(call.session_id.clone());

    for i in 0..20 {
        let reply = call.shopper.command(push_card(&format!("n{i}"))).await;
        let seq = reply.seq.unwrap();
        let stored = store.events(&tenant, &session, seq - 1, 1).await.unwrap();
        assert_eq!(stored.len(), 1, "event {seq} acked but not stored");
        assert_eq!(stored[0].kind, "product.shared");
    }
    assert!(
        call.customer
            .wait_for_seq(call.shopper.seqs().last().copied().unwrap())
            .await
    );
    for e in &call.customer.events {
        let stored = store.events(&tenant, &session, e.seq - 1, 1).await.unwrap();
        assert_eq!(stored[0].seq, e.seq);
        assert_eq!(stored[0].data, e.data, "delivered and stored events differ");
    }
}

/// Guarantee 3: a client that reconnects with `resume_after` gets exactly what it missed,
/// then live events; nothing lost, nothing twice.
#[actix_web::test]
async fn resume_delivers_exactly_the_missed_events_then_live_ones() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let first = call.shopper.command(push_card("before")).await;
    assert!(call.customer.wait_for_seq(first.seq.unwrap()).await);
    let seen = *call.customer.seqs().last().unwrap();
    let customer = std::mem::replace(&mut call.customer, WsClient::connect(&node.api).await);
    customer.abandon();

    let mut last = 0;
    for i in 0..12 {
        last = call
            .shopper
            .command(push_card(&format!("missed {i}")))
            .await
            .seq
            .unwrap();
    }
    let mut back = call.customer;
    let welcome = back
        .hello(&call.customer_token, &call.session_id, Some(seen))
        .await;
    assert!(welcome.seq > last, "the rejoin itself is an event");
    let live = call.shopper.command(push_card("live")).await.seq.unwrap();
    assert!(back.wait_for_seq(live).await);

    let got = back.seqs();
    let want: Vec<u64> = (seen + 1..=live).collect();
    assert_eq!(
        got, want,
        "resumed stream must be exactly the missed events then live"
    );
    let notes: Vec<&str> = back
        .events
        .iter()
        .filter_map(|e| e.data["note"].as_str())
        .collect();
    assert_eq!(notes.first(), Some(&"missed 0"));
    assert_eq!(notes.last(), Some(&"live"));

    // Resuming from the present, or from beyond it, replays nothing.
    let mut fresh = WsClient::connect(&node.api).await;
    let w = fresh
        .hello(&call.customer_token, &call.session_id, Some(live + 50))
        .await;
    let extra = fresh.next_frame(Duration::from_millis(300)).await;
    assert!(extra.is_none(), "nothing to replay, got {extra:?}");
    assert!(w.seq >= live);
}

/// Guarantee 4: a command re-sent with the same id takes effect once and the repeat gets
/// the original reply, also while the original is still in flight.
#[actix_web::test]
async fn idempotency_a_repeated_command_id_takes_effect_once() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;

    let chat = json!({"id": "same-1", "type": "chat.send", "text": "hola"});
    let a = call.customer.command(chat.clone()).await;
    let b = call.customer.command(chat).await;
    assert!(a.ok);
    assert_eq!(a, b);

    // Two identical cart commands back to back, before either reply arrives.
    let add = json!({"id": "same-2", "type": "cart.add", "variant_id": demo::PLENTIFUL,
                     "quantity": 1});
    call.customer.send_text(&add.to_string()).await;
    call.customer.send_text(&add.to_string()).await;
    let deadline = std::time::Instant::now() + PATIENCE;
    while call
        .customer
        .replies
        .iter()
        .filter(|r| r.id == "same-2")
        .count()
        < 2
    {
        assert!(std::time::Instant::now() < deadline, "both replies arrive");
        call.customer.next_frame(PATIENCE).await;
    }
    let replies: Vec<_> = call
        .customer
        .replies
        .iter()
        .filter(|r| r.id == "same-2")
        .collect();
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0].data["cart"]["lines"][0]["quantity"], 1);

    // The same id from another participant is another command.
    let theirs = call
        .shopper
        .command(json!({"id": "same-1", "type": "chat.send", "text": "¡hola!"}))
        .await;
    assert_ne!(theirs.seq, a.seq);

    let events = node
        .api
        .get(
            &format!("/v1/sessions/{}/events?limit=1000", call.session_id),
            node.admin(),
        )
        .await;
    let kinds: Vec<&str> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "chat.message").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "cart.updated").count(), 1);
}

/// Guarantee 5: a customer that never reads its socket does not delay the others; past
/// its bounded queue it is disconnected with 4429, and may resume.
#[actix_web::test]
async fn isolation_a_stalled_reader_is_cut_off_and_the_others_keep_receiving() {
    let node = TestNode::start_with("[ws]\noutbound_queue = 32\nframe_burst = 1000\n").await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let mut stalled = WsClient::connect_with_receive_buffer(&node.api, 4096).await;
    stalled
        .hello(&call.customer_token, &call.session_id, None)
        .await;

    // The healthy customer reads all along, on its own task.
    let mut healthy = std::mem::replace(&mut call.customer, WsClient::connect(&node.api).await);
    let reader = actix_web::rt::spawn(async move {
        let shared = |c: &WsClient| {
            c.events
                .iter()
                .filter(|e| e.kind == "product.shared")
                .count()
        };
        healthy.wait_until(|c| shared(c) >= 600, PATIENCE * 3).await;
        healthy
    });

    // The stalled client reads nothing from here on; the shopper pushes hundreds of cards.
    let big_note = "x".repeat(400);
    let mut last = 0;
    for batch in 0..60 {
        let mut ids = Vec::new();
        for i in 0..10 {
            let id = format!("push-{batch}-{i}");
            let mut f = push_card(&big_note);
            f["id"] = json!(id);
            call.shopper.send_text(&f.to_string()).await;
            ids.push(id);
        }
        for id in &ids {
            let r = call.shopper.reply_to(id).await;
            assert!(r.ok, "{r:?}");
            last = r.seq.unwrap();
        }
    }
    let healthy = reader.await.unwrap();
    assert_eq!(
        healthy.closed, None,
        "the healthy customer stayed connected"
    );
    assert!(
        healthy.seqs().contains(&last),
        "the healthy customer got every card"
    );
    assert!(consecutive(&healthy.seqs()));

    // Reading now, the stalled client finds what fit in its queue, then 4429.
    let code = stalled.expect_close(PATIENCE).await;
    assert_eq!(code, Some(4429));
    assert!(stalled.seqs().last().copied().unwrap_or(0) < last);

    // It resumes from where it was cut off and catches up completely.
    let seen = stalled.seqs().last().copied().unwrap_or(0);
    let mut again = WsClient::connect(&node.api).await;
    again
        .hello(&call.customer_token, &call.session_id, Some(seen))
        .await;
    assert!(again.wait_for_seq(last).await);
    let mut all = stalled.seqs();
    all.extend(again.seqs());
    assert!(consecutive(&all), "cut-off plus resume is gapless");
}

/// Guarantee 6: malformed, unknown, oversized and hostile frames get `invalid` (or an
/// `error` frame, or 1009 for size) and disturb neither the session nor anyone else.
#[actix_web::test]
async fn bad_input_is_refused_without_disturbing_the_session() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let before = node
        .api
        .get(&format!("/v1/sessions/{}", call.session_id), node.admin())
        .await
        .body["seq"]
        .as_u64()
        .unwrap();

    let c = &mut call.customer;
    c.send_text("this is not json").await;
    c.send_text("[1,2,3]").await;
    c.send_text(r#"{"type":"chat.send","text":"no id"}"#).await;
    c.send_message(Message::binary(vec![0u8, 159, 146, 150]))
        .await;
    assert!(
        c.wait_until(|c| c.errors.len() >= 4, PATIENCE).await,
        "{:?}",
        c.errors
    );

    let cases = [
        json!({"id": "b1", "type": "teleport"}),
        json!({"id": "b2", "type": "cart.add"}),
        json!({"id": "b3", "type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1.5}),
        json!({"id": "b4", "type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 0}),
        json!({"id": "b5", "type": "cart.add", "variant_id": demo::PLENTIFUL, "quantity": 1_000_000}),
        json!({"id": "b6", "type": "chat.send", "text": ""}),
        json!({"id": "b7", "type": "chat.send", "text": "é".repeat(4001)}),
        json!({"id": "b8", "type": "chat.send", "text": ["not", "a", "string"]}),
        json!({"id": "b9", "type": "survey.submit", "score": 300}),
        json!({"id": "b10", "type": "consent.give", "kind": "everything"}),
        json!({"id": "b11", "type": "media.produce", "transport_id": "t"}),
        json!({"id": "b12", "type": "hello", "token": "x", "session_id": "y"}),
        json!({"id": "b13", "type": "chat.send", "text": "ding\u{0007}\u{001b}[2J"}),
    ];
    for case in cases {
        let id = case["id"].as_str().unwrap().to_owned();
        c.send_text(&case.to_string()).await;
        if id == "b12" {
            assert!(c.wait_until(|c| c.errors.len() >= 5, PATIENCE).await);
            continue;
        }
        let r = c.reply_to(&id).await;
        assert!(!r.ok, "{case} must fail");
        assert_eq!(r.code(), "invalid", "{case}: {r:?}");
    }
    // A hostile but valid message is simply chat.
    let hostile = "<script>alert(1)</script>\u{202e}gnp.exe 🧨\n\t'; DROP TABLE events; --";
    assert!(
        c.command(json!({"type": "chat.send", "text": hostile}))
            .await
            .ok
    );

    // The session and the others carry on.
    let pushed = call.shopper.command(push_card("still fine")).await;
    assert!(pushed.ok);
    assert!(call.customer.wait_for_seq(pushed.seq.unwrap()).await);
    assert_eq!(
        pushed.seq.unwrap(),
        before + 2,
        "only the two valid commands made events"
    );

    // A frame over 64 KiB closes that connection with 1009, and only that one.
    let mut big = call.second_customer_connection(&node.api).await;
    big.send_text(
        &json!({"id": "big", "type": "chat.send", "text": "a".repeat(70 * 1024)}).to_string(),
    )
    .await;
    assert_eq!(big.expect_close(PATIENCE).await, Some(1009));
    assert!(call.customer.command(json!({"type": "ping"})).await.ok);
}

/// Guarantee 6, opening: no hello in time is 4408; a first frame that is not hello, or a
/// bad token, is 4401; an unknown session is 4404.
#[actix_web::test]
async fn bad_openings_get_their_close_codes() {
    let node = TestNode::start_with("[ws]\nhello_timeout = \"400ms\"\n").await;
    let (session_id, customer_token) = node.api.widget_session("pk_demo", "Eve").await;

    let mut silent = WsClient::connect(&node.api).await;
    assert_eq!(silent.expect_close(PATIENCE).await, Some(4408));

    let mut rude = WsClient::connect(&node.api).await;
    rude.send_text(r#"{"id":"x","type":"chat.send","text":"hi"}"#)
        .await;
    assert_eq!(rude.expect_close(PATIENCE).await, Some(4401));

    let mut forged = WsClient::connect(&node.api).await;
    let refused = forged
        .try_hello("eyJhbGciOiJIUzI1NiJ9.e30.bad", &session_id, None)
        .await;
    assert_eq!(refused.err(), Some(Some(4401)));

    let mut lost = WsClient::connect(&node.api).await;
    let refused = lost
        .try_hello(&customer_token, "ses_does_not_exist", None)
        .await;
    assert_eq!(refused.err(), Some(Some(4404)));
}

/// Guarantee 7: customers cannot send shopper commands, and no token reaches another
/// session's or another tenant's data.
#[actix_web::test]
async fn authority_roles_and_scopes_are_enforced() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;

    for cmd in [
        json!({"type": "session.start"}),
        json!({"type": "session.end"}),
        push_card("sneaky"),
        json!({"type": "catalog.search", "query": "watch"}),
    ] {
        let r = call.customer.command(cmd.clone()).await;
        assert_eq!(r.code(), "forbidden", "{cmd}: {r:?}");
    }
    let r = call.shopper.command(json!({"type": "checkout"})).await;
    assert_eq!(r.code(), "forbidden");

    // A customer token opens its own session only.
    let (other_session, _) = node.api.widget_session("pk_demo", "Someone Else").await;
    let mut wrong = WsClient::connect(&node.api).await;
    let refused = wrong
        .try_hello(&call.customer_token, &other_session, None)
        .await;
    assert_eq!(refused.err(), Some(Some(4404)));

    // Staff of another tenant cannot open this tenant's session.
    let store = node.state.engine.store();
    let now = vitrine_persistence::now();
    store
        .create_tenant(&vitrine_persistence::model::Tenant {
            id: "rival".into(),
            name: "Rival".into(),
            public_key: "pk_rival".into(),
            currency: "EUR".into(),
            created_at: now,
        })
        .await
        .unwrap();
    store
        .create_user(&vitrine_persistence::model::User {
            tenant_id: "rival".into(),
            id: "usr_rival".into(),
            name: "Rival Shopper".into(),
            email: "r@rival.test".into(),
            phone: None,
            roles: vec!["admin".into()],
            collections: vec![],
            created_at: now,
        })
        .await
        .unwrap();
    let rival = node.state.tokens.issue_staff(
        &vitrine_engine::identity::StaffPrincipal {
            tenant_id: "rival".into(),
            user_id: "usr_rival".into(),
            name: "Rival Shopper".into(),
            modules: vitrine_engine::identity::Module::ALL.into_iter().collect(),
        },
        Duration::from_secs(600),
    );
    let mut intruder = WsClient::connect(&node.api).await;
    let refused = intruder
        .try_hello(&rival.token, &call.session_id, None)
        .await;
    assert_eq!(refused.err(), Some(Some(4404)));
    let seen = node
        .api
        .get(&format!("/v1/sessions/{}", call.session_id), &rival.token)
        .await;
    assert_eq!(seen.status, 404);

    // A customer token is no key to the staff API.
    let as_customer = node
        .api
        .get(
            &format!("/v1/sessions/{}", call.session_id),
            &call.customer_token,
        )
        .await;
    assert_eq!(as_customer.status, 403);
}

/// Guarantee 8: staff-only events (`product.searched`) reach staff but never customers,
/// live or on resume.
#[actix_web::test]
async fn visibility_staff_only_events_never_reach_customers() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let invite = node
        .api
        .post(
            &format!("/v1/sessions/{}/participants", call.session_id),
            &call.shopper_token,
            json!({"role": "observer", "name": "Supervisor"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{:?}", invite.body);
    let mut observer = WsClient::connect(&node.api).await;
    observer
        .hello(
            invite.body["token"].as_str().unwrap(),
            &call.session_id,
            None,
        )
        .await;

    let searched = call
        .shopper
        .command(json!({"type": "catalog.search", "query": "mug"}))
        .await;
    let search_seq = searched.seq.unwrap();
    let after = call
        .shopper
        .command(push_card("after the search"))
        .await
        .seq
        .unwrap();

    assert!(call.customer.wait_for_seq(after).await);
    assert!(observer.wait_for_seq(after).await);
    assert!(call.shopper.wait_for_seq(after).await);
    let kinds = |c: &WsClient| c.events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>();
    assert!(!kinds(&call.customer).contains(&"product.searched".to_string()));
    assert!(kinds(&observer).contains(&"product.searched".to_string()));
    assert!(call.shopper.events.iter().any(|e| e.seq == search_seq));

    let mut replayed = WsClient::connect(&node.api).await;
    replayed
        .hello(&call.customer_token, &call.session_id, Some(0))
        .await;
    assert!(replayed.wait_for_seq(after).await);
    assert!(!kinds(&replayed).contains(&"product.searched".to_string()));
    assert!(replayed.seqs().contains(&(search_seq - 1)) || search_seq == 1);
}

/// A session has one shopper: another shopper of the tenant who joins it watches as an
/// observer and cannot push cards or end the call.
#[actix_web::test]
async fn authority_a_second_shopper_joins_as_an_observer() {
    let node = TestNode::start().await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let (_, other_token) = node.api.shopper(node.admin(), "Other Shopper", &[]).await;

    let mut other = WsClient::connect(&node.api).await;
    let welcome = other.hello(&other_token, &call.session_id, None).await;
    assert_eq!(welcome.role, "observer");
    assert_eq!(
        other.command(push_card("mine now")).await.code(),
        "forbidden"
    );
    assert_eq!(
        other.command(json!({"type": "session.end"})).await.code(),
        "forbidden"
    );
    assert!(
        other
            .command(json!({"type": "chat.send", "text": "watching"}))
            .await
            .ok
    );
    assert!(
        call.shopper
            .command(push_card("still the shopper"))
            .await
            .ok
    );
}

/// One participant may hold only a few connections to a session; past the limit a new one
/// is refused with 4429 and the others keep working.
#[actix_web::test]
async fn isolation_one_participant_cannot_open_unbounded_connections() {
    let node = TestNode::start_with("[session]\nmax_connections_per_participant = 3\n").await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let mut extra = [
        call.second_customer_connection(&node.api).await,
        call.second_customer_connection(&node.api).await,
    ];
    let mut refused = WsClient::connect(&node.api).await;
    let outcome = refused
        .try_hello(&call.customer_token, &call.session_id, None)
        .await;
    assert_eq!(outcome.err(), Some(Some(4429)));
    assert!(extra[0].command(json!({"type": "ping"})).await.ok);
    assert!(
        call.customer
            .command(json!({"type": "chat.send", "text": "ok"}))
            .await
            .ok
    );
}
