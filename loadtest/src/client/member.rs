//! The participant task. It joins, waits for its session's gate, then follows its
//! timetable while reading every frame; on a drop order (or a connection the server
//! closed) it resumes from the last seq it has and re-sends what was unanswered, with the
//! same ids.

mod connect;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::timetable::{Action, Timetable};
use super::wire::{Command, Incoming};
use super::{Gate, MemberSpec, Order, Phase, RunContext, SessionShared};
use crate::clock::Micros;
use crate::ledger::Stamp;
use crate::metrics::FanoutSample;
use crate::mix::{Behaviour, Transaction};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A session whose gate never opens starts its traffic anyway after this long, so one
/// participant that failed to join does not hold up the others.
const GATE_GRACE: Duration = Duration::from_secs(10);
/// Cart lines are reset to one unit after this many additions, to stay far below the
/// 999-unit line limit in long runs.
const CART_ADDS_BEFORE_RESET: u32 = 20;

/// A command written and not yet answered.
#[derive(Clone, Debug)]
struct Pending {
    tx: Transaction,
    scheduled: Micros,
    written: Micros,
    frame: String,
    /// The number the peers' payload carries.
    event: Option<u64>,
}

/// Where a checkout session's customer is in its checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CheckoutStep {
    Idle,
    Adding(u64),
    Buying(u64),
}

/// Starts a participant's task.
pub fn spawn(ctx: Arc<RunContext>, spec: MemberSpec) -> tokio::task::JoinHandle<()> {
    let behaviour = spec.session.behaviours[spec.member];
    let member = Member {
        phase: ctx.phase.clone(),
        gate: spec.session.gate.subscribe(),
        ctx,
        session: spec.session,
        m: spec.member,
        behaviour,
        next_id: 0,
        next_event: 0,
        pending: HashMap::new(),
        participant_id: None,
        timetable: Timetable::default(),
        epoch: None,
        traffic_from: None,
        checkout: CheckoutStep::Idle,
        cart_adds: 0,
        catchup_target: None,
        samples: Vec::new(),
    };
    tokio::spawn(member.run(spec.connect_at, spec.orders))
}

struct Member {
    ctx: Arc<RunContext>,
    session: Arc<SessionShared>,
    m: usize,
    behaviour: Behaviour,
    phase: watch::Receiver<Phase>,
    gate: watch::Receiver<Gate>,
    next_id: u64,
    next_event: u64,
    pending: HashMap<u64, Pending>,
    participant_id: Option<String>,
    timetable: Timetable,
    /// The traffic phase being followed, and when this session's traffic began in it.
    epoch: Option<u32>,
    traffic_from: Option<Micros>,
    checkout: CheckoutStep,
    cart_adds: u32,
    /// While catching up after a resume: the seq to reach, and when the drop happened.
    catchup_target: Option<(u64, Micros)>,
    samples: Vec<FanoutSample>,
}

/// Why the loop stopped reading one connection.
enum Stop {
    /// The run is over.
    Close,
    /// Ordered to drop and resume.
    Drop,
    /// The server closed the connection, or it broke.
    Lost(u16),
}

impl Member {
    fn now(&self) -> Micros {
        self.ctx.clock.now()
    }

    async fn run(mut self, connect_at: Micros, mut orders: UnboundedReceiver<Order>) {
        tokio::time::sleep_until(self.ctx.clock.instant(connect_at).into()).await;
        if matches!(*self.phase.borrow(), Phase::Close) {
            return;
        }
        if let Some(ws) = self.join_first().await {
            self.live(ws, &mut orders).await;
        }
        // Whatever is still unanswered now never will be.
        for (_, p) in self.pending.drain() {
            self.ctx.recorder.command_settled(false);
            self.ctx
                .recorder
                .tx_failed(p.tx, "no reply before the connection ended");
        }
    }

    /// Converses over successive connections, resuming after each loss, until the run
    /// closes or a resume fails.
    async fn live(&mut self, mut ws: Ws, orders: &mut UnboundedReceiver<Order>) {
        loop {
            let stop = self.converse(&mut ws, orders).await;
            let lost_at = self.now();
            self.ctx.recorder.live.open.fetch_sub(1, Ordering::Relaxed);
            self.session.ledger().left(self.m);
            match stop {
                Stop::Close => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    return;
                }
                Stop::Drop => drop(ws),
                Stop::Lost(code) => {
                    self.ctx.recorder.close(code);
                    drop(ws);
                    // The peers keep no history to resume from.
                    if !self.ctx.wire.echo() {
                        return;
                    }
                }
            }
            match self.resume(lost_at).await {
                Some(new) => ws = new,
                None => return,
            }
        }
    }

    /// Reads and sends on one connection until it must stop.
    async fn converse(&mut self, ws: &mut Ws, orders: &mut UnboundedReceiver<Order>) -> Stop {
        loop {
            self.follow_phase(ws).await;
            if matches!(*self.phase.borrow(), Phase::Close) {
                return Stop::Close;
            }
            let wake = self.next_wake();
            let sleep = tokio::time::sleep_until(
                self.ctx
                    .clock
                    .instant(wake.unwrap_or(Micros::MAX / 4))
                    .into(),
            );
            tokio::select! {
                order = orders.recv() => match order {
                    Some(Order::Drop) => return Stop::Drop,
                    None => return Stop::Close,
                },
                changed = self.phase.changed() => {
                    if changed.is_err() {
                        return Stop::Close;
                    }
                }
                _ = self.gate.changed(), if self.waiting_for_gate() => {}
                msg = ws.next() => {
                    if let Some(code) = self.on_message(ws, msg).await {
                        return Stop::Lost(code);
                    }
                }
                _ = sleep, if wake.is_some() => {
                    if let Err(code) = self.send_due(ws).await {
                        return Stop::Lost(code);
                    }
                }
            }
        }
    }

    fn waiting_for_gate(&self) -> bool {
        self.epoch.is_some() && self.traffic_from.is_none()
    }

    /// The next time something is due: a send, or the gate's grace running out.
    fn next_wake(&self) -> Option<Micros> {
        if self.waiting_for_gate() {
            if let Phase::Traffic { start, .. } = *self.phase.borrow() {
                return Some(start + crate::clock::micros(GATE_GRACE));
            }
        }
        self.timetable.next_due()
    }

    /// Applies the current phase: begins traffic once the gate opens, stops it at
    /// wrap-up.
    async fn follow_phase(&mut self, ws: &mut Ws) {
        let phase = *self.phase.borrow_and_update();
        match phase {
            Phase::Connect | Phase::Close => {}
            Phase::Traffic { epoch, start } => {
                if self.epoch != Some(epoch) {
                    self.epoch = Some(epoch);
                    self.traffic_from = None;
                    self.timetable.clear();
                }
                if self.traffic_from.is_none() {
                    let gate = *self.gate.borrow_and_update();
                    let now = self.now();
                    let grace_over = now >= start + crate::clock::micros(GATE_GRACE);
                    if gate.opened_at.is_some() || grace_over {
                        let begin = start.max(gate.opened_at.unwrap_or(now)) + self.session.offset;
                        self.traffic_from = Some(begin);
                        self.timetable = Timetable::new(
                            self.behaviour,
                            &self.ctx.plan.traffic,
                            begin,
                            self.m,
                            self.session.setup.members.len(),
                        );
                    }
                }
            }
            Phase::WrapUp { epoch } => {
                if self.epoch == Some(epoch) && self.traffic_from.is_some() {
                    self.timetable.clear();
                    self.traffic_from = None;
                    if self.session.checkout_member == Some(self.m)
                        && self.checkout == CheckoutStep::Idle
                    {
                        let variant = self.cart_variant();
                        let now = self.now();
                        if let Ok(id) = self
                            .send_command(
                                ws,
                                Transaction::CartChange,
                                &Command::CartAdd { variant: &variant },
                                now,
                            )
                            .await
                        {
                            self.checkout = CheckoutStep::Adding(id);
                        }
                    }
                }
                self.epoch = None;
            }
        }
    }

    fn cart_variant(&self) -> String {
        let variants = &self.ctx.catalog.cart_variants;
        variants[(self.session.setup.index + self.m) % variants.len().max(1)].clone()
    }

    /// Sends every action that is due.
    async fn send_due(&mut self, ws: &mut Ws) -> Result<(), u16> {
        let now = self.now();
        while let Some((action, due)) = self.timetable.take_due(now) {
            let (tx, text, variant);
            let command = match action {
                Action::Card => {
                    let products = &self.ctx.catalog.products;
                    let product = if products.is_empty() {
                        String::new()
                    } else {
                        products
                            [(self.next_id as usize + self.session.setup.index) % products.len()]
                        .clone()
                    };
                    tx = Transaction::CardPush;
                    text = product;
                    Command::Card { product: &text }
                }
                Action::ShopperChat | Action::Chat => {
                    tx = Transaction::ChatSend;
                    text = format!(
                        "Load chat from participant {} of session {}, message {}",
                        self.m, self.session.setup.index, self.next_id
                    );
                    Command::Chat { text: &text }
                }
                Action::Cart => {
                    tx = Transaction::CartChange;
                    variant = self.cart_variant();
                    self.cart_adds += 1;
                    if self.cart_adds > CART_ADDS_BEFORE_RESET {
                        self.cart_adds = 0;
                        Command::CartSet {
                            variant: &variant,
                            quantity: 1,
                        }
                    } else {
                        Command::CartAdd { variant: &variant }
                    }
                }
            };
            self.send_command(ws, tx, &command, due).await?;
        }
        Ok(())
    }

    /// Writes one command scheduled at `scheduled`; returns its number.
    async fn send_command(
        &mut self,
        ws: &mut Ws,
        tx: Transaction,
        command: &Command<'_>,
        scheduled: Micros,
    ) -> Result<u64, u16> {
        self.next_id += 1;
        let id = self.next_id;
        let numbered =
            !self.ctx.wire.echo() && matches!(command, Command::Card { .. } | Command::Chat { .. });
        let event = numbered.then(|| {
            self.next_event += 1;
            self.next_event
        });
        let frame = self.ctx.wire.command(id, command, event.unwrap_or(0));
        let written = self.now();
        if let Some(ev) = event {
            // The peers' events are numbered here: stamp them before anyone can receive them.
            let kind = if matches!(command, Command::Card { .. }) {
                "card"
            } else {
                "chat"
            };
            let mut ledger = self.session.ledger();
            ledger.sent_kind(ev, kind);
            ledger.stamped(
                ev,
                Stamp {
                    scheduled,
                    written,
                    sender: self.m,
                },
                &mut self.samples,
            );
        }
        self.flush_samples();
        self.ctx
            .recorder
            .send_lag(written.saturating_sub(scheduled));
        self.pending.insert(
            id,
            Pending {
                tx,
                scheduled,
                written,
                frame: frame.clone(),
                event,
            },
        );
        self.ctx.recorder.command_written();
        ws.send(Message::text(frame)).await.map_err(|_| 1006u16)?;
        Ok(id)
    }

    fn flush_samples(&mut self) {
        if !self.samples.is_empty() {
            let members = &self.session.setup.members;
            let placement = (self.ctx.plan.targets.len() > 1).then(|| {
                if members[self.m].target == members[0].target {
                    crate::metrics::Placement::OwnerNode
                } else {
                    crate::metrics::Placement::OtherNode
                }
            });
            self.ctx.recorder.fanout(&self.samples, placement);
            self.samples.clear();
        }
    }
}

mod receive;
