//! What a run needs before any socket opens, made over the HTTP API: shoppers and their
//! staff tokens, sessions with their customer tokens, invitations for further customers,
//! and the catalog's product and variant ids. After the traffic, the session logs are
//! read back to find events that no participant received.

use std::ops::Range;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{stream, StreamExt, TryStreamExt};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

use crate::plan::Plan;
use crate::target::TargetKind;

/// Requests in flight at once during setup.
const SETUP_CONCURRENCY: usize = 16;
/// Longest one setup request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Ids from the catalog that commands use.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Products to push as cards.
    pub products: Vec<String>,
    /// Variants to put in carts: those whose stock is not tracked, so checkouts never
    /// run out.
    pub cart_variants: Vec<String>,
}

/// One participant's way in.
#[derive(Clone, Debug)]
pub struct MemberSetup {
    /// Its token (empty for the peers).
    pub token: String,
    /// Index of the node it connects to.
    pub target: usize,
}

/// One session, ready to join.
#[derive(Clone, Debug)]
pub struct SessionSetup {
    /// Position in the run.
    pub index: usize,
    /// The session id (for the peers, a room name).
    pub session_id: String,
    /// Participant 0 is the shopper.
    pub members: Vec<MemberSetup>,
}

/// The HTTP side of a run.
pub struct Setup {
    client: Client,
    bases: Vec<String>,
    admin: String,
    participants: usize,
    kind: TargetKind,
    shoppers: Vec<String>,
    tag: String,
}

impl Setup {
    /// Creates the run's shoppers (none for the peers).
    pub async fn prepare(plan: &Plan) -> Result<Self> {
        let client = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // The server closes idle connections; do not reuse one it may have closed.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .context("failed to build the HTTP client")?;
        let mut setup = Self {
            client,
            bases: plan.targets.iter().map(|t| t.base.clone()).collect(),
            admin: plan.admin_token.clone().unwrap_or_default(),
            participants: plan.participants,
            kind: plan.kind,
            shoppers: Vec::new(),
            tag: format!("lt{}", chrono::Utc::now().format("%Y%m%d%H%M%S%3f")),
        };
        if plan.kind != TargetKind::Vitrine {
            return Ok(setup);
        }
        let ttl = (plan.max_run_time + Duration::from_secs(3600)).as_secs();
        let shoppers: Vec<String> = stream::iter(0..plan.shoppers)
            .map(|i| setup.shopper(i, ttl))
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        setup.shoppers = shoppers;
        Ok(setup)
    }

    fn base(&self, index: usize) -> &str {
        &self.bases[index % self.bases.len()]
    }

    async fn send(&self, req: RequestBuilder, what: &str) -> Result<Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("failed to {what}: the request did not complete"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let shown: String = text.chars().take(300).collect();
            bail!("failed to {what}: HTTP {status}: {shown}");
        }
        serde_json::from_str(&text).with_context(|| format!("failed to {what}: answer is not JSON"))
    }

    /// Creates one shopper with a staff token; returns the token.
    async fn shopper(&self, i: usize, ttl_seconds: u64) -> Result<String> {
        let base = self.base(i);
        let created = self
            .send(
                self.client
                    .post(format!("{base}/v1/shoppers"))
                    .bearer_auth(&self.admin)
                    .json(&json!({
                        "name": format!("Load Shopper {i}"),
                        "email": format!("{}-{i}@loadtest.invalid", self.tag),
                        "collections": [],
                    })),
                "create a shopper (is --admin-token right?)",
            )
            .await?;
        let id = field(&created, "shopper_id", "a created shopper")?;
        let token = self
            .send(
                self.client
                    .post(format!("{base}/v1/shoppers/{id}/tokens"))
                    .bearer_auth(&self.admin)
                    .json(&json!({ "ttl_seconds": ttl_seconds })),
                "mint a shopper token",
            )
            .await?;
        field(&token, "token", "a minted token")
    }

    /// Card products and cart variants of the tenant's catalog.
    pub async fn catalog(&self) -> Result<Catalog> {
        if self.kind != TargetKind::Vitrine {
            return Ok(Catalog::default());
        }
        let answer = self
            .send(
                self.client
                    .get(format!("{}/v1/catalog/products?limit=50", self.base(0)))
                    .bearer_auth(&self.admin),
                "read the catalog",
            )
            .await?;
        let Some(products) = answer["products"].as_array().filter(|p| !p.is_empty()) else {
            bail!("the catalog has no products to push; import one first");
        };
        let mut catalog = Catalog::default();
        let mut tracked: Vec<(i64, String)> = Vec::new();
        for p in products {
            if let Some(id) = p["product_id"].as_str() {
                catalog.products.push(id.to_owned());
            }
            for v in p["variants"].as_array().into_iter().flatten() {
                let (Some(id), true) = (v["variant_id"].as_str(), v["available"] == true) else {
                    continue;
                };
                match v["stock"].as_i64() {
                    None => catalog.cart_variants.push(id.to_owned()),
                    Some(stock) => tracked.push((stock, id.to_owned())),
                }
            }
        }
        // Untracked variants never run out; without any, the deepest stock is used, and
        // checkouts may still exhaust it in long runs (they then fail as out_of_stock).
        if catalog.cart_variants.is_empty() {
            tracked.sort_by_key(|t| std::cmp::Reverse(t.0));
            catalog
                .cart_variants
                .extend(tracked.into_iter().take(1).map(|(_, id)| id));
        }
        if catalog.cart_variants.is_empty() {
            bail!("the catalog has no available variant to put in carts");
        }
        Ok(catalog)
    }

    /// Creates sessions `range` with their participants.
    pub async fn sessions(&self, range: Range<usize>) -> Result<Vec<SessionSetup>> {
        stream::iter(range)
            .map(|i| self.session(i))
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    fn member_target(&self, session: usize, member: usize) -> usize {
        (session * self.participants + member) % self.bases.len()
    }

    async fn session(&self, index: usize) -> Result<SessionSetup> {
        let targets: Vec<usize> = (0..self.participants)
            .map(|m| self.member_target(index, m))
            .collect();
        if self.kind != TargetKind::Vitrine {
            return Ok(SessionSetup {
                index,
                session_id: format!("s{index}"),
                members: targets
                    .into_iter()
                    .map(|target| MemberSetup {
                        token: String::new(),
                        target,
                    })
                    .collect(),
            });
        }

        let base = self.base(index);
        let shopper = &self.shoppers[index % self.shoppers.len()];
        let created = self
            .send(
                self.client
                    .post(format!("{base}/v1/sessions"))
                    .bearer_auth(shopper)
                    .json(&json!({ "customer": { "name": format!("Customer {index}") } })),
                "create a session",
            )
            .await?;
        let session_id = field(&created, "session_id", "a created session")?;
        let mut members = vec![
            MemberSetup {
                token: shopper.clone(),
                target: targets[0],
            },
            MemberSetup {
                token: field(&created, "customer_token", "a created session")?,
                target: targets[1],
            },
        ];
        for (m, &target) in targets.iter().enumerate().skip(2) {
            let invited = self
                .send(
                    self.client
                        .post(format!("{base}/v1/sessions/{session_id}/participants"))
                        .bearer_auth(shopper)
                        .json(&json!({ "role": "customer", "name": format!("Guest {index}.{m}") })),
                    "invite a customer",
                )
                .await?;
            members.push(MemberSetup {
                token: field(&invited, "token", "an invitation")?,
                target,
            });
        }
        Ok(SessionSetup {
            index,
            session_id,
            members,
        })
    }

    /// Events of a session's log after `after`, as `(seq, kind)`.
    pub async fn log_after(
        &self,
        session: &SessionSetup,
        after: u64,
    ) -> Result<Vec<(u64, String)>> {
        let base = self.base(session.index);
        let mut found = Vec::new();
        let mut after = after;
        // A bounded number of pages: a log cannot grow while the run is idle.
        for _ in 0..100 {
            let url = format!(
                "{base}/v1/sessions/{}/events?after={after}&limit=1000",
                session.session_id
            );
            let page = self.read_log_page(&url).await?;
            for e in page["events"].as_array().into_iter().flatten() {
                let (Some(seq), Some(kind)) = (e["seq"].as_u64(), e["kind"].as_str()) else {
                    bail!("an event in the log has no seq or kind: {e}");
                };
                found.push((seq, kind.to_owned()));
            }
            match page["next_after"].as_u64() {
                Some(next) if next > after => after = next,
                _ => return Ok(found),
            }
        }
        Ok(found)
    }
}

impl Setup {
    /// One page of a log, retried twice: reads are idempotent, and a pooled connection
    /// may have been closed by the server after the long traffic phase.
    async fn read_log_page(&self, url: &str) -> Result<Value> {
        let mut last = None;
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            match self
                .send(
                    self.client.get(url).bearer_auth(&self.admin),
                    "read a session's event log",
                )
                .await
            {
                Ok(page) => return Ok(page),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("failed to read a session's event log")))
    }
}

fn field(body: &Value, name: &str, what: &str) -> Result<String> {
    body[name]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("{what} has no {name:?}: {body}"))
}
