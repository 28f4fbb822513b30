//! Killing the `vitrine` process mid-session loses nothing that was acknowledged.

use serde_json::{json, Value};
use vitrine_tests::call::{demo, push_card, Call};
use vitrine_tests::node::ServerProcess;
use vitrine_tests::ws::WsClient;

/// The session state without what lives only in memory (who is connected now).
fn durable(mut state: Value) -> Value {
    if let Some(ps) = state["participants"].as_array_mut() {
        for p in ps {
            p.as_object_mut().unwrap().remove("connected");
        }
    }
    state
}

/// SIGKILL the server mid-session, start it again on the same data directory: the state
/// is identical, every acknowledged command is there once, acknowledged command ids are
/// still remembered, and a client resuming gets exactly the events it missed.
#[actix_web::test]
async fn a_killed_server_restarts_with_the_same_session_and_resume_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]).await;
    let api = server.api.clone();
    let mut call = Call::start(&api, server.admin()).await;

    // The customer sees the first part, then stops reading.
    let r = call.shopper.command(push_card("seen")).await;
    assert!(call.customer.wait_for_seq(r.seq.unwrap()).await);
    let seen = *call.customer.seqs().last().unwrap();

    // More happens that the customer does not see; every command is acknowledged.
    let mut acked = Vec::new();
    for i in 0..15 {
        let r = call
            .shopper
            .command(push_card(&format!("unseen {i}")))
            .await;
        acked.push(r);
        let r = call
            .shopper
            .command(json!({"type": "chat.send", "text": format!("nota {i} — ñ")}))
            .await;
        acked.push(r);
    }
    let added = call
        .shopper
        .command(
            json!({"id": "add-once", "type": "cart.add", "variant_id": demo::PLENTIFUL,
                        "quantity": 2}),
        )
        .await;
    assert!(added.ok, "{added:?}");
    acked.push(added.clone());
    // A few commands are in flight when the process dies; they may or may not survive.
    for i in 0..5 {
        let id = call.shopper.new_id();
        let mut f = push_card(&format!("in flight {i}"));
        f["id"] = json!(id);
        call.shopper.send_text(&f.to_string()).await;
    }
    let before = api
        .get(&format!("/v1/sessions/{}", call.session_id), server.admin())
        .await
        .body;

    // Act: kill without warning and start again on the same data.
    server.kill();
    let server = ServerProcess::start(dir.path(), &[]).await;
    let api = server.api.clone();

    // Assert: the state is the same, apart from what was in flight after it was read.
    let after = api
        .get(&format!("/v1/sessions/{}", call.session_id), server.admin())
        .await
        .body;
    let log = api
        .get(
            &format!("/v1/sessions/{}/events?limit=1000", call.session_id),
            server.admin(),
        )
        .await
        .body;
    let seqs: Vec<u64> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the log has no gaps"
    );
    for r in &acked {
        let seq = r.seq.unwrap();
        assert_eq!(
            seqs.iter().filter(|s| **s == seq).count(),
            1,
            "acked {seq} is stored once"
        );
    }
    let stored_before = before["seq"].as_u64().unwrap();
    if after["seq"].as_u64().unwrap() == stored_before {
        assert_eq!(durable(after.clone()), durable(before.clone()));
    } else {
        // In-flight cards landed after the state was read: everything else is unchanged.
        let mut trimmed = durable(after.clone());
        let cards = trimmed["cards"].as_array_mut().unwrap();
        cards.retain(|c| c["seq"].as_u64().unwrap() <= stored_before);
        trimmed["seq"] = before["seq"].clone();
        assert_eq!(trimmed, durable(before.clone()));
    }

    // The acknowledged cart command is remembered: re-sending it changes nothing.
    let mut shopper = WsClient::connect(&api).await;
    shopper
        .hello(&call.shopper_token, &call.session_id, None)
        .await;
    let again = shopper
        .command(
            json!({"id": "add-once", "type": "cart.add", "variant_id": demo::PLENTIFUL,
                        "quantity": 2}),
        )
        .await;
    assert_eq!(again.seq, added.seq);
    assert_eq!(again.data, added.data);

    // The customer resumes from what it saw and gets exactly the rest, in order.
    let mut customer = WsClient::connect(&api).await;
    let welcome = customer
        .hello(&call.customer_token, &call.session_id, Some(seen))
        .await;
    assert!(customer.wait_for_seq(welcome.seq).await);
    let got = customer.seqs();
    let want: Vec<u64> = (seen + 1..=welcome.seq).collect();
    assert_eq!(got, want);
    let unseen_cards = customer
        .events
        .iter()
        .filter(|e| {
            e.data["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("unseen"))
        })
        .count();
    assert_eq!(unseen_cards, 15);
}
