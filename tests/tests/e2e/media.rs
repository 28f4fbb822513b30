//! Media signalling over the session's socket, against real mediasoup workers: the
//! router's capabilities, transports, producers announced to everyone, consumers, and
//! every malformed parameter refused without harm to the worker.

use serde_json::{json, Value};
use vitrine_tests::call::Call;
use vitrine_tests::node::TestNode;
use vitrine_tests::ws::WsClient;
use vitrine_tests::PATIENCE;

/// One worker is enough for a test, and starts faster.
const ONE_WORKER: &str = "[media]\nworkers = 1\n";

fn vp8_parameters(ssrc: u32) -> Value {
    json!({
        "mid": "0",
        "codecs": [{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
            "parameters": {}, "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"}]}],
        "headerExtensions": [],
        "encodings": [{"ssrc": ssrc}],
        "rtcp": {"cname": "shopper-camera", "reducedSize": true}
    })
}

fn opus_parameters(ssrc: u32) -> Value {
    json!({
        "mid": "1",
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
            "channels": 2, "parameters": {"useinbandfec": 1}, "rtcpFeedback": []}],
        "headerExtensions": [],
        "encodings": [{"ssrc": ssrc}],
        "rtcp": {"cname": "shopper-mic", "reducedSize": true}
    })
}

async fn transport(client: &mut WsClient, direction: &str) -> String {
    let reply = client
        .command(json!({"type": "media.transport.create", "direction": direction}))
        .await;
    assert!(reply.ok, "{reply:?}");
    reply.data["id"]
        .as_str()
        .expect("a transport id")
        .to_owned()
}

async fn capabilities(client: &mut WsClient) -> Value {
    let reply = client.command(json!({"type": "media.capabilities"})).await;
    assert!(reply.ok, "{reply:?}");
    reply.data
}

async fn produce(client: &mut WsClient, transport_id: &str, kind: &str, params: Value) -> String {
    let reply = client
        .command(
            json!({"type": "media.produce", "transport_id": transport_id, "kind": kind,
            "rtp_parameters": params}),
        )
        .await;
    assert!(reply.ok, "{reply:?}");
    assert!(reply.seq.is_some(), "a new producer is an event");
    reply.data["producer_id"]
        .as_str()
        .expect("a producer id")
        .to_owned()
}

/// The data of the `kind` event about `producer_id`, with `by` folded in.
async fn wait_for_kind(client: &mut WsClient, kind: &str, producer_id: &str) -> Value {
    let found = |c: &WsClient| {
        c.events
            .iter()
            .find(|e| e.kind == kind && e.data["producer_id"] == producer_id)
            .map(|e| {
                let mut data = e.data.clone();
                data["by"] = json!(e.by);
                data
            })
    };
    assert!(
        client.wait_until(|c| found(c).is_some(), PATIENCE).await,
        "no {kind} for {producer_id}"
    );
    found(client).expect("found above")
}

#[actix_web::test]
async fn the_router_offers_opus_vp8_and_h264_and_transports_listen_on_udp_and_tcp() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut call = Call::start(&node.api, node.admin()).await;

    // Act
    let caps = capabilities(&mut call.customer).await;
    let send = call
        .shopper
        .command(json!({"type": "media.transport.create", "direction": "send"}))
        .await;

    // Assert
    let mimes: Vec<&str> = caps["rtp_capabilities"]["codecs"]
        .as_array()
        .expect("codecs")
        .iter()
        .filter_map(|c| c["mimeType"].as_str())
        .collect();
    for mime in ["audio/opus", "video/VP8", "video/H264"] {
        assert!(mimes.contains(&mime), "{mime} missing from {mimes:?}");
    }
    assert_eq!(caps["producers"], json!([]));
    assert!(send.ok, "{send:?}");
    let candidates = send.data["iceCandidates"].as_array().expect("candidates");
    let protocols: Vec<&str> = candidates
        .iter()
        .filter_map(|c| c["protocol"].as_str())
        .collect();
    assert!(
        protocols.contains(&"udp") && protocols.contains(&"tcp"),
        "{protocols:?}"
    );
    assert!(
        candidates.iter().all(|c| c["address"] == "127.0.0.1"),
        "{candidates:?}"
    );
    let ports: std::collections::BTreeSet<u64> = candidates
        .iter()
        .filter_map(|c| c["port"].as_u64())
        .collect();
    assert_eq!(
        ports.len(),
        1,
        "one port serves UDP and TCP: {candidates:?}"
    );
    assert!(!send.data["dtlsParameters"]["fingerprints"]
        .as_array()
        .expect("fingerprints")
        .is_empty());
    assert!(send.data["iceParameters"]["usernameFragment"].is_string());
}

#[actix_web::test]
async fn a_track_is_announced_consumed_paused_resumed_and_removed() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let send = transport(&mut call.shopper, "send").await;
    let recv = transport(&mut call.customer, "recv").await;
    let caps = capabilities(&mut call.customer).await["rtp_capabilities"].clone();

    // Act: the shopper sends a camera and a microphone; the customer receives the camera.
    let camera = produce(&mut call.shopper, &send, "video", vp8_parameters(1111)).await;
    let mic = produce(&mut call.shopper, &send, "audio", opus_parameters(2222)).await;
    let added = wait_for_kind(&mut call.customer, "media.producer_added", &camera).await;
    let consumed = call
        .customer
        .command(
            json!({"type": "media.consume", "transport_id": recv, "producer_id": camera,
            "rtp_capabilities": caps}),
        )
        .await;
    let resumed = call
        .customer
        .command(json!({"type": "media.consumer.resume",
            "consumer_id": consumed.data["id"]}))
        .await;
    let listed = capabilities(&mut call.customer).await["producers"].clone();
    let closed = call
        .shopper
        .command(json!({"type": "media.producer.close", "producer_id": camera}))
        .await;

    // Assert
    assert_eq!(added["kind"], "video");
    assert_eq!(added["source"], "camera");
    assert_eq!(
        added["participant_id"], added["by"],
        "the sender's own track"
    );
    assert!(consumed.ok, "{consumed:?}");
    assert_eq!(consumed.data["producerId"], camera.as_str());
    assert_eq!(consumed.data["kind"], "video");
    assert_eq!(
        consumed.data["rtpParameters"]["codecs"][0]["mimeType"],
        "video/VP8"
    );
    assert!(resumed.ok, "{resumed:?}");
    let listed: Vec<&str> = listed
        .as_array()
        .expect("producers")
        .iter()
        .filter_map(|p| p["producer_id"].as_str())
        .collect();
    assert!(listed.contains(&camera.as_str()) && listed.contains(&mic.as_str()));
    assert!(closed.ok, "{closed:?}");
    let removed = wait_for_kind(&mut call.customer, "media.producer_removed", &camera).await;
    assert_eq!(removed["reason"], "closed");
    let again = call
        .customer
        .command(json!({"type": "media.consumer.resume", "consumer_id": consumed.data["id"]}))
        .await;
    assert_eq!(
        again.code(),
        "not_found",
        "the consumer closed with its producer"
    );
}

#[actix_web::test]
async fn a_participant_who_leaves_takes_their_tracks_along() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let send = transport(&mut call.customer, "send").await;
    let camera = produce(&mut call.customer, &send, "video", vp8_parameters(3333)).await;

    // Act
    call.customer.close().await;

    // Assert
    let removed = wait_for_kind(&mut call.shopper, "media.producer_removed", &camera).await;
    assert_eq!(removed["reason"], "left");
    let left = call
        .shopper
        .events
        .iter()
        .position(|e| e.kind == "participant.left");
    let gone = call
        .shopper
        .events
        .iter()
        .position(|e| e.kind == "media.producer_removed");
    assert!(
        gone < left || left.is_none(),
        "tracks stop before their sender leaves"
    );
    let caps = capabilities(&mut call.shopper).await;
    assert_eq!(caps["producers"], json!([]));
}

#[actix_web::test]
async fn malformed_media_parameters_are_refused_and_the_worker_keeps_serving() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let send = transport(&mut call.shopper, "send").await;
    let recv = transport(&mut call.shopper, "recv").await;
    let huge = "Ω".repeat(20_000);
    let mut unknown_codec = vp8_parameters(4444);
    unknown_codec["codecs"][0]["mimeType"] = json!("video/NOPE");
    let mut wrong_payload = vp8_parameters(4445);
    wrong_payload["codecs"][0]["payloadType"] = json!(300);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"type": "media.transport.create", "direction": "sideways"}),
            "invalid",
        ),
        (
            json!({"type": "media.transport.connect", "transport_id": send,
            "dtls_parameters": {"role": "client", "fingerprints": []}}),
            "invalid",
        ),
        (
            json!({"type": "media.transport.connect", "transport_id": send,
            "dtls_parameters": {"role": "client",
                "fingerprints": [{"algorithm": "sha-256", "value": ""}]}}),
            "invalid",
        ),
        (
            json!({"type": "media.transport.connect", "transport_id": send,
            "dtls_parameters": {"role": "client",
                "fingerprints": [{"algorithm": "sha-256", "value": huge}]}}),
            "invalid",
        ),
        (
            json!({"type": "media.transport.connect", "transport_id": send,
            "dtls_parameters": huge}),
            "invalid",
        ),
        (
            json!({"type": "media.transport.connect", "transport_id": "no-such-transport",
            "dtls_parameters": {"role": "client", "fingerprints": []}}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": send, "kind": "video",
            "rtp_parameters": unknown_codec}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": send, "kind": "video",
            "rtp_parameters": wrong_payload}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": send, "kind": "audio",
            "rtp_parameters": vp8_parameters(4446)}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": send, "kind": "smell",
            "rtp_parameters": vp8_parameters(4447)}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": recv, "kind": "video",
            "rtp_parameters": vp8_parameters(4448)}),
            "invalid",
        ),
        (
            json!({"type": "media.produce", "transport_id": "0b6c4fe4-5a1e-4b2e-9f3a-6c2d1e0f9a87",
            "kind": "video", "rtp_parameters": vp8_parameters(4449)}),
            "not_found",
        ),
        (
            json!({"type": "media.produce", "transport_id": huge, "kind": "video",
            "rtp_parameters": vp8_parameters(4450)}),
            "not_found",
        ),
        (
            json!({"type": "media.produce", "transport_id": send, "kind": "video",
            "source": "🎥", "rtp_parameters": vp8_parameters(4451)}),
            "invalid",
        ),
        (
            json!({"type": "media.consume", "transport_id": recv,
            "producer_id": "0b6c4fe4-5a1e-4b2e-9f3a-6c2d1e0f9a87",
            "rtp_capabilities": {"codecs": [], "headerExtensions": []}}),
            "invalid",
        ),
        (
            json!({"type": "media.consume", "transport_id": recv, "producer_id": "\u{202e}evil",
            "rtp_capabilities": {"codecs": [{"kind": "video", "mimeType": "video/VP8",
                "clockRate": 90000}], "headerExtensions": []}}),
            "not_found",
        ),
        (
            json!({"type": "media.consumer.resume", "consumer_id": "nope"}),
            "not_found",
        ),
        (
            json!({"type": "media.producer.close", "producer_id": ""}),
            "not_found",
        ),
    ];

    // Act
    let mut got = Vec::new();
    for (frame, _) in &cases {
        got.push(call.shopper.command(frame.clone()).await);
    }

    // Assert
    for ((frame, want), reply) in cases.iter().zip(&got) {
        assert_eq!(&reply.code(), want, "{frame} got {reply:?}");
    }
    let still = transport(&mut call.shopper, "send").await;
    produce(&mut call.shopper, &still, "video", vp8_parameters(5555)).await;
    let health = node.api.get("/healthz", "").await;
    assert_eq!(health.status, 200);
}

#[actix_web::test]
async fn a_transport_of_another_session_or_participant_is_not_found() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut one = Call::start(&node.api, node.admin()).await;
    let mut two = Call::start(&node.api, node.admin()).await;
    let theirs = transport(&mut one.shopper, "send").await;
    let customers = transport(&mut one.customer, "send").await;

    // Act
    let across = two
        .shopper
        .command(
            json!({"type": "media.produce", "transport_id": theirs, "kind": "video",
            "rtp_parameters": vp8_parameters(6666)}),
        )
        .await;
    let within = one
        .shopper
        .command(
            json!({"type": "media.produce", "transport_id": customers, "kind": "video",
            "rtp_parameters": vp8_parameters(6667)}),
        )
        .await;

    // Assert
    assert_eq!(across.code(), "not_found", "{across:?}");
    assert_eq!(within.code(), "not_found", "{within:?}");
}

#[actix_web::test]
async fn observers_receive_but_do_not_send() {
    // Arrange
    let node = TestNode::start_with(ONE_WORKER).await;
    let mut call = Call::start(&node.api, node.admin()).await;
    let (_, observer_token) = node.api.shopper(node.admin(), "Supervisor", &[]).await;
    let mut observer = WsClient::connect(&node.api).await;
    assert_eq!(
        observer
            .hello(&observer_token, &call.session_id, None)
            .await
            .role,
        "observer"
    );
    let send = transport(&mut call.shopper, "send").await;
    let camera = produce(&mut call.shopper, &send, "video", vp8_parameters(7777)).await;
    let own_send = transport(&mut observer, "send").await;
    let recv = transport(&mut observer, "recv").await;
    let caps = capabilities(&mut observer).await["rtp_capabilities"].clone();

    // Act
    let produced = observer
        .command(
            json!({"type": "media.produce", "transport_id": own_send, "kind": "video",
            "rtp_parameters": vp8_parameters(7778)}),
        )
        .await;
    let consumed = observer
        .command(
            json!({"type": "media.consume", "transport_id": recv, "producer_id": camera,
            "rtp_capabilities": caps}),
        )
        .await;

    // Assert
    assert_eq!(produced.code(), "forbidden");
    assert!(consumed.ok, "{consumed:?}");
}
