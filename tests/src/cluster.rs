//! Several `vitrine` processes on one Postgres schema and one Redis of the test's own, and
//! participants that stay in a session across node deaths the way a careful client does:
//! the same command id until acknowledged, and on a dropped socket a reconnect to the next
//! node with `resume_after` the last seq seen.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vitrine_persistence::postgres::testing::TestSchema;

use crate::http::Api;
use crate::node::ServerProcess;
use crate::ws::WsClient;

/// A `redis-server` of the test's own, on a port of its own, keeping nothing on disk.
pub struct TestRedis {
    port: u16,
    child: Option<Child>,
}

impl TestRedis {
    /// Starts one and waits until it answers.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut redis = Self { port, child: None };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let ok = Command::new("redis-cli")
                .args(["-p", &self.port.to_string(), "ping"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
                .unwrap_or(false);
            if ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (every key is lost, every connection cut) and starts it again on the same
    /// port after `down`.
    pub fn restart(&mut self, down: Duration) {
        self.kill();
        std::thread::sleep(down);
        self.spawn();
    }

    /// Kills it; [`start_again`](Self::start_again) brings it back on the same port.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Starts it again (empty) after [`stop`](Self::stop).
    pub fn start_again(&mut self) {
        self.spawn();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Several nodes on one store and one Redis.
pub struct TestCluster {
    /// The nodes, in start order.
    pub nodes: Vec<ServerProcess>,
    /// The Redis they share.
    pub redis: TestRedis,
    /// The schema they share.
    pub schema: TestSchema,
    dirs: Vec<TempDir>,
    lease: Duration,
    extra: Vec<(String, String)>,
}

impl TestCluster {
    /// Starts `n` nodes with leases of `lease`, one after the other (the first creates the
    /// demo tenant).
    pub async fn start(n: usize, lease: Duration) -> Self {
        Self::start_with(n, lease, &[]).await
    }

    /// Like [`start`](Self::start), with extra environment for every node.
    pub async fn start_with(n: usize, lease: Duration, extra: &[(&str, &str)]) -> Self {
        let redis = TestRedis::start();
        let schema = TestSchema::new().await;
        let mut cluster = Self {
            nodes: Vec::new(),
            redis,
            schema,
            dirs: Vec::new(),
            lease,
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for _ in 0..n {
            let dir = tempfile::tempdir().expect("a data directory");
            let env = cluster.env();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let node = ServerProcess::start(dir.path(), &env).await;
            cluster.dirs.push(dir);
            cluster.nodes.push(node);
        }
        cluster
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.schema.url.clone()),
            ("VITRINE_POSTGRES__SCHEMA".into(), self.schema.name.clone()),
            ("VITRINE_POSTGRES__POOL_SIZE".into(), "6".into()),
            ("REDIS_URL".into(), self.redis.url()),
            (
                "VITRINE_REDIS__LEASE".into(),
                format!("{}ms", self.lease.as_millis()),
            ),
            (
                "VITRINE_REDIS__REQUEST_TIMEOUT".into(),
                format!("{}ms", self.lease.as_millis()),
            ),
        ]
        .into_iter()
        .chain(self.extra.iter().cloned())
        .collect()
    }

    /// Restarts node `i` on its port and data directory, writing its log to `log`.
    pub async fn start_node_logging(&mut self, i: usize, log: &Path) {
        let port = self.nodes[i].port();
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.nodes[i] =
            ServerProcess::start_logging(port, self.dirs[i].path(), &env, Some(log)).await;
    }

    /// Every node's API, in order.
    pub fn apis(&self) -> Vec<Api> {
        self.nodes.iter().map(|n| n.api.clone()).collect()
    }

    /// The lease period.
    pub fn lease(&self) -> Duration {
        self.lease
    }
}

/// A session with a shopper and two customers (the customer and an invited one).
pub struct ThreeWay {
    /// Session id.
    pub session_id: String,
    /// The shopper's staff token.
    pub shopper: String,
    /// The customer's token.
    pub customer: String,
    /// The invited customer's token.
    pub second: String,
}

/// Creates a session, its shopper and a second invited customer.
pub async fn three_way(api: &Api, admin: &str, n: usize) -> ThreeWay {
    let (_, shopper) = api.shopper(admin, &format!("Shopper {n}"), &[]).await;
    let (session_id, customer) = api
        .widget_session("pk_demo", &format!("Customer {n}"))
        .await;
    let invited = api
        .post(
            &format!("/v1/sessions/{session_id}/participants"),
            admin,
            json!({"role": "customer", "name": format!("Partner {n}")}),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let second = invited.body["token"].as_str().expect("a token").to_owned();
    ThreeWay {
        session_id,
        shopper,
        customer,
        second,
    }
}

/// What one participant did and saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Who (for messages).
    pub who: String,
    /// Every event received, as `(seq, frame data)`, across reconnections, in order.
    pub events: Vec<(u64, Value)>,
    /// The seq of the first welcome.
    pub first_welcome: u64,
    /// Seqs acknowledged to this participant's commands, with their ids.
    pub acked: BTreeMap<String, u64>,
    /// Close codes the server sent.
    pub close_codes: Vec<u16>,
    /// Reconnections.
    pub reconnects: usize,
    /// When each command was acknowledged.
    pub acked_at: Vec<(String, Instant)>,
}

impl Seen {
    /// Every seq received, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.events.iter().map(|(s, _)| *s).collect()
    }
}

/// What a participant sends, and how often.
#[derive(Clone, Debug)]
pub enum Plan {
    /// Start the call, then push cards.
    Shopper {
        /// How many.
        cards: usize,
    },
    /// Add the plentiful demo variant to the cart, one unit at a time.
    Cart {
        /// How many times.
        adds: usize,
    },
    /// Send chat messages.
    Chat {
        /// How many.
        messages: usize,
    },
    /// Only read.
    Read,
}

/// How a test runs the participants of one session: each tells `done` when its plan is
/// carried out, and reads on until `stop` holds a seq it has seen.
#[derive(Clone)]
pub struct Stage {
    /// The nodes participants may connect to.
    pub apis: Vec<Api>,
    /// The session.
    pub session: String,
    /// Told once per participant when its commands are all acknowledged (or it gave up).
    pub done: tokio::sync::mpsc::UnboundedSender<()>,
    /// The last seq to wait for; 0 until the test knows it.
    pub stop: watch::Receiver<u64>,
    /// How long a participant may run at most.
    pub limit: Duration,
}

/// Runs one participant: connects to `apis[first]` (then the next node after each drop),
/// carries out `plan` one command every `interval`, then reads until the stage's `stop`
/// holds a seq it has seen.
pub fn participant(
    who: &str,
    first: usize,
    token: &str,
    plan: Plan,
    interval: Duration,
    stage: Stage,
) -> JoinHandle<Seen> {
    let (who, token) = (who.to_owned(), token.to_owned());
    let Stage {
        apis,
        session,
        done,
        mut stop,
        limit,
    } = stage;
    tokio::spawn(async move {
        let deadline = Instant::now() + limit;
        let mut seen = Seen {
            who: who.clone(),
            ..Seen::default()
        };
        let mut node = first;
        let mut client = connect(
            &apis, &mut node, &token, &session, None, &mut seen, deadline,
        )
        .await;
        let commands: Vec<(String, Value)> = match plan {
            Plan::Shopper { cards } => std::iter::once((
                format!("{who}-start"),
                json!({"type": "session.start"}),
            ))
            .chain((0..cards).map(|i| {
                (
                    format!("{who}-card-{i}"),
                    json!({"type": "card.push", "product_id": "cafe-creme-mug", "note": format!("{who} card {i}")}),
                )
            }))
            .collect(),
            Plan::Cart { adds } => (0..adds)
                .map(|i| {
                    (
                        format!("{who}-add-{i}"),
                        json!({"type": "cart.add", "variant_id": crate::call::demo::PLENTIFUL, "quantity": 1}),
                    )
                })
                .collect(),
            Plan::Chat { messages } => (0..messages)
                .map(|i| {
                    (
                        format!("{who}-chat-{i}"),
                        json!({"type": "chat.send", "text": format!("{who} says {i} — ¿qué tal? 👋")}),
                    )
                })
                .collect(),
            Plan::Read => Vec::new(),
        };
        for (id, mut frame) in commands {
            frame["id"] = json!(id);
            while Instant::now() < deadline {
                let Some(c) = client.as_mut() else { break };
                c.send_text(&frame.to_string()).await;
                match wait_reply(c, &id, &mut seen).await {
                    Some(r) if r.ok => {
                        seen.acked.insert(id.clone(), r.seq.unwrap_or(0));
                        seen.acked_at.push((id.clone(), Instant::now()));
                        break;
                    }
                    Some(r) if r.code() == "unavailable" => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Some(r) => panic!("{who}: {id} refused: {r:?}"),
                    None => {
                        // No reply in time or the socket closed: try another node.
                        note_close(c, &mut seen);
                        seen.reconnects += 1;
                        node += 1;
                        let last = seen
                            .events
                            .last()
                            .map(|(s, _)| *s)
                            .or(Some(seen.first_welcome));
                        client = connect(
                            &apis, &mut node, &token, &session, last, &mut seen, deadline,
                        )
                        .await;
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
        let _ = done.send(());
        // Read until told the final seq and it has been seen.
        while Instant::now() < deadline {
            let Some(c) = client.as_mut() else { break };
            let before = c.events.len();
            let _ = c.next_frame(Duration::from_millis(100)).await;
            take_events(c, before, &mut seen);
            let last = seen
                .events
                .last()
                .map(|(s, _)| *s)
                .unwrap_or(seen.first_welcome);
            let target = *stop.borrow_and_update();
            if target > 0 && last >= target {
                break;
            }
            if c.closed.is_some() {
                note_close(c, &mut seen);
                seen.reconnects += 1;
                node += 1;
                client = connect(
                    &apis,
                    &mut node,
                    &token,
                    &session,
                    Some(last),
                    &mut seen,
                    deadline,
                )
                .await;
            }
        }
        seen
    })
}

fn take_events(c: &WsClient, before: usize, seen: &mut Seen) {
    for e in &c.events[before..] {
        seen.events.push((e.seq, e.data.clone()));
    }
}

fn note_close(c: &WsClient, seen: &mut Seen) {
    if let Some(code) = c.closed {
        seen.close_codes.push(code);
    }
}

/// Connects to the node at `*node` (modulo the count), moving on to the next node while
/// one refuses; records the welcome.
async fn connect(
    apis: &[Api],
    node: &mut usize,
    token: &str,
    session: &str,
    resume: Option<u64>,
    seen: &mut Seen,
    deadline: Instant,
) -> Option<WsClient> {
    while Instant::now() < deadline {
        let api = &apis[*node % apis.len()];
        if let Ok(Some(mut client)) =
            tokio::time::timeout(Duration::from_secs(2), WsClient::try_connect(api)).await
        {
            match tokio::time::timeout(
                Duration::from_secs(5),
                client.try_hello(token, session, resume),
            )
            .await
            {
                Ok(Ok(welcome)) => {
                    if resume.is_none() {
                        seen.first_welcome = welcome.seq;
                    }
                    take_events(&client, 0, seen);
                    return Some(client);
                }
                Ok(Err(code)) => seen.close_codes.extend(code),
                Err(_) => {}
            }
        }
        *node += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Waits for the reply to `id`, collecting events meanwhile; `None` when none comes
/// within three seconds or the socket closes.
async fn wait_reply(c: &mut WsClient, id: &str, seen: &mut Seen) -> Option<crate::ws::Reply> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(r) = c.replies.iter().rev().find(|r| r.id == id) {
            let r = r.clone();
            c.replies.retain(|r| r.id != id);
            return Some(r);
        }
        if Instant::now() >= deadline || c.closed.is_some() {
            return None;
        }
        let before = c.events.len();
        let _ = c.next_frame(Duration::from_millis(200)).await;
        take_events(c, before, seen);
    }
}

/// Reads a session's whole log as `(seq, kind, data)`.
pub async fn log(api: &Api, admin: &str, session: &str) -> Vec<(u64, String, Value)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = api
            .get(
                &format!("/v1/sessions/{session}/events?after={after}&limit=1000"),
                admin,
            )
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let events = page.body["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let seq = e["seq"].as_u64().expect("a seq");
            after = seq;
            out.push((
                seq,
                e["kind"].as_str().unwrap_or_default().to_owned(),
                e["data"].clone(),
            ));
        }
    }
}

/// Checks one participant against the session's log: it saw every event after its first
/// welcome that its role may see, once each and in order, and every acknowledged command
/// is in the log at its seq.
pub fn check(seen: &Seen, log: &[(u64, String, Value)], staff: bool) {
    let seqs: Vec<u64> = log.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the log has a gap or a repeat"
    );
    let visible: Vec<u64> = log
        .iter()
        .filter(|(s, kind, _)| {
            *s > seen.first_welcome
                && (staff || !vitrine_engine::events::EventBody::is_staff_only_kind(kind))
        })
        .map(|(s, _, _)| *s)
        .collect();
    // Events after the log was read (participants leaving at the end) are not compared.
    let last = seqs.last().copied().unwrap_or(0);
    let got: Vec<u64> = seen.seqs().into_iter().filter(|s| *s <= last).collect();
    assert_eq!(
        got, visible,
        "{}: the events seen differ from the log (closes {:?})",
        seen.who, seen.close_codes
    );
    for (s, data) in seen.events.iter().filter(|(s, _)| *s <= last) {
        assert_eq!(
            &log[*s as usize - 1].2,
            data,
            "{}: event {s} differs from the log",
            seen.who
        );
    }
    // Every acknowledged command is in the log at its seq, as the event it makes.
    for (id, seq) in &seen.acked {
        let Some((_, kind, data)) = log.get((*seq as usize).wrapping_sub(1)) else {
            panic!("{}: acknowledged {id} at {seq} is not in the log", seen.who);
        };
        let expected = if id.contains("-card-") {
            "product.shared"
        } else if id.contains("-add-") {
            "cart.updated"
        } else if id.contains("-chat-") {
            "chat.message"
        } else {
            "session.started"
        };
        assert_eq!(kind, expected, "{}: {id} at {seq}", seen.who);
        if let Some(i) = id.rsplit("-card-").next().filter(|_| id.contains("-card-")) {
            assert_eq!(
                data["note"],
                format!("{} card {i}", seen.who),
                "{}: {id}",
                seen.who
            );
        }
    }
}
