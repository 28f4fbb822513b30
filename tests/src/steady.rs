//! Steady traffic for fault tests: sessions whose shoppers keep pushing cards while their
//! customers read, retrying through outages exactly as a careful client would (same
//! command id until acknowledged; reconnect and resume by seq when the socket drops).
//! Afterwards [`Outcome::check`] compares what was acknowledged and seen with the log.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinHandle;

use crate::call::push_card;
use crate::http::Api;
use crate::ws::WsClient;

/// One session under load.
pub struct LoadedSession {
    /// Session id.
    pub session_id: String,
    shopper_token: String,
    customer_token: String,
}

/// What one session's clients saw.
#[derive(Debug, Default)]
pub struct SessionOutcome {
    /// Session id.
    pub session_id: String,
    /// Seqs the server acknowledged to the shopper, with the command ids.
    pub acked: BTreeMap<u64, String>,
    /// Every event the customer received, across reconnections, in order of arrival.
    pub customer_seen: Vec<u64>,
    /// Replies that were `unavailable` (retried).
    pub unavailable: usize,
    /// Times a client had to reconnect.
    pub reconnects: usize,
    /// Close codes the server sent to this session's clients.
    pub close_codes: Vec<u16>,
}

/// Creates `count` live sessions (shopper token, widget session, started).
pub async fn sessions(api: &Api, admin: &str, count: usize) -> Vec<LoadedSession> {
    let mut out = Vec::new();
    for i in 0..count {
        let (_, shopper_token) = api.shopper(admin, &format!("Load Shopper {i}"), &[]).await;
        let (session_id, customer_token) = api
            .widget_session("pk_demo", &format!("Load Customer {i}"))
            .await;
        out.push(LoadedSession {
            session_id,
            shopper_token,
            customer_token,
        });
    }
    out
}

/// Connects, retrying while the node cannot serve the session (1013, refused).
async fn connect(
    api: &Api,
    token: &str,
    session: &str,
    resume: Option<u64>,
    deadline: Instant,
) -> Option<WsClient> {
    while Instant::now() < deadline {
        if let Ok(mut c) =
            tokio::time::timeout(Duration::from_secs(2), WsClient::try_connect(api)).await
        {
            if let Some(mut client) = c.take() {
                if client.try_hello(token, session, resume).await.is_ok() {
                    return Some(client);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// Drives one session: the shopper pushes `cards` cards, one every `interval`, each
/// retried until acknowledged; the customer reads all along. Runs until done or `limit`.
pub fn drive(
    api: Api,
    s: LoadedSession,
    cards: usize,
    interval: Duration,
    limit: Duration,
) -> JoinHandle<SessionOutcome> {
    tokio::spawn(async move {
        let deadline = Instant::now() + limit;
        let mut outcome = SessionOutcome {
            session_id: s.session_id.clone(),
            ..SessionOutcome::default()
        };

        let reader_api = api.clone();
        let (session_id, customer_token) = (s.session_id.clone(), s.customer_token.clone());
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let reader = tokio::spawn(async move {
            let mut seen: Vec<u64> = Vec::new();
            let mut reconnects = 0;
            let mut codes = Vec::new();
            let mut client =
                connect(&reader_api, &customer_token, &session_id, None, deadline).await;
            while let Some(c) = client.as_mut() {
                let before = c.events.len();
                let _ = c.next_frame(Duration::from_millis(100)).await;
                seen.extend(c.events[before..].iter().map(|e| e.seq));
                if *stop_rx.borrow_and_update() && c.events.len() == before {
                    break;
                }
                if let Some(code) = c.closed {
                    codes.push(code);
                    reconnects += 1;
                    let last = seen.last().copied();
                    client =
                        connect(&reader_api, &customer_token, &session_id, last, deadline).await;
                }
            }
            (seen, reconnects, codes)
        });

        let mut shopper = connect(&api, &s.shopper_token, &s.session_id, None, deadline).await;
        let start = json!({"id": "start", "type": "session.start"});
        let mut pending: Vec<(String, serde_json::Value)> = vec![("start".into(), start)];
        for i in 0..cards {
            let mut f = push_card(&format!("card {i}"));
            let id = format!("card-{i}");
            f["id"] = json!(id);
            pending.push((id, f));
        }
        for (id, frame) in pending {
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let Some(c) = shopper.as_mut() else { break };
                c.send_text(&frame.to_string()).await;
                match wait_reply(c, &id).await {
                    Some(r) if r.ok => {
                        if let Some(seq) = r.seq {
                            outcome.acked.insert(seq, id.clone());
                        }
                        break;
                    }
                    Some(r) if r.code() == "unavailable" => {
                        outcome.unavailable += 1;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Some(r) => panic!("{id} refused: {r:?}"),
                    None => {
                        outcome.close_codes.extend(c.closed);
                        outcome.reconnects += 1;
                        shopper =
                            connect(&api, &s.shopper_token, &s.session_id, None, deadline).await;
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }

        // Let the customer catch up, then stop it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = stop_tx.send(true);
        let (seen, reconnects, codes) = reader.await.unwrap_or_default();
        outcome.customer_seen = seen;
        outcome.reconnects += reconnects;
        outcome.close_codes.extend(codes);
        outcome
    })
}

async fn wait_reply(c: &mut WsClient, id: &str) -> Option<crate::ws::Reply> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = c.replies.iter().rev().find(|r| r.id == id) {
            let r = r.clone();
            c.replies.retain(|r| r.id != id);
            return Some(r);
        }
        if Instant::now() >= deadline || c.closed.is_some() {
            return None;
        }
        let _ = c.next_frame(Duration::from_millis(500)).await;
    }
}

impl SessionOutcome {
    /// Checks the outcome against the session's log (`seqs` and `kinds` of every stored
    /// event, in order): no gap in the log, every acknowledged command stored exactly once,
    /// and the customer saw the log (less nothing) without gaps or duplicates.
    pub fn check(&self, log: &[(u64, String, Option<String>)]) {
        let seqs: Vec<u64> = log.iter().map(|(s, _, _)| *s).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "session {}: the log has a gap",
            self.session_id
        );
        let notes: Vec<&str> = log.iter().filter_map(|(_, _, n)| n.as_deref()).collect();
        let unique: BTreeSet<&&str> = notes.iter().collect();
        assert_eq!(
            unique.len(),
            notes.len(),
            "session {}: a card was stored twice",
            self.session_id
        );
        for (seq, id) in &self.acked {
            assert!(
                seqs.contains(seq),
                "session {}: acked {id} at {seq} is missing",
                self.session_id
            );
        }
        let acked_cards = self
            .acked
            .values()
            .filter(|id| id.starts_with("card-"))
            .count();
        assert_eq!(
            acked_cards,
            notes.len(),
            "session {}: stored cards differ from acked",
            self.session_id
        );

        let mut dedup = self.customer_seen.clone();
        dedup.dedup();
        assert_eq!(
            dedup.len(),
            self.customer_seen.len(),
            "session {}: the customer saw an event twice",
            self.session_id
        );
        assert!(
            self.customer_seen.windows(2).all(|w| w[1] == w[0] + 1),
            "session {}: the customer's stream has a gap or is out of order: {:?}",
            self.session_id,
            self.customer_seen
        );
        let last_card = log
            .iter()
            .filter(|(_, k, _)| k == "product.shared")
            .map(|(s, _, _)| *s)
            .max()
            .unwrap_or(0);
        assert!(
            self.customer_seen.last().copied().unwrap_or(0) >= last_card,
            "session {}: the customer missed the end",
            self.session_id
        );
    }
}

/// Reads a session's whole log as `(seq, kind, card note)`.
pub async fn log(api: &Api, admin: &str, session: &str) -> Vec<(u64, String, Option<String>)> {
    crate::cluster::log(api, admin, session)
        .await
        .into_iter()
        .map(|(seq, kind, data)| (seq, kind, data["note"].as_str().map(str::to_owned)))
        .collect()
}
