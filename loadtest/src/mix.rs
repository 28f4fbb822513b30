//! Participant behaviours and the transactions they are made of.
//!
//! Every session has one shopper, who *hosts*: starts the session, pushes product cards at
//! the card interval and chats at the shopper chat interval. Its other participants are
//! customers, each given one behaviour by weight ([`Mix`]): a *watcher* only receives, a
//! *chatter* chats, a *buyer* adds to the cart and chats. In checkout sessions one
//! customer also buys what is in the cart when the traffic ends.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What one participant does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// The shopper: start, cards, chat.
    Host,
    /// A customer who only receives.
    Watcher,
    /// A customer who chats.
    Chatter,
    /// A customer who fills the cart and chats.
    Buyer,
}

impl Behaviour {
    /// The name used in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Watcher => "watcher",
            Self::Chatter => "chatter",
            Self::Buyer => "buyer",
        }
    }
}

/// A named transaction: one timed step of a behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Transaction {
    /// TCP and WebSocket handshake.
    Connect,
    /// From `hello` (or the peer's join) to `welcome` (or its ack).
    Welcome,
    /// From dropping a connection to the `welcome` of its resume.
    Resume,
    /// From dropping a connection to the last caught-up event of its resume.
    CatchUp,
    /// `session.start`.
    SessionStart,
    /// `card.push` (the peer's `card`).
    CardPush,
    /// `chat.send` (the peer's `chat`).
    ChatSend,
    /// `cart.add` or `cart.set_quantity`.
    CartChange,
    /// `checkout`.
    Checkout,
}

impl Transaction {
    /// Every transaction, in report order.
    pub const ALL: [Transaction; 9] = [
        Self::Connect,
        Self::Welcome,
        Self::Resume,
        Self::CatchUp,
        Self::SessionStart,
        Self::CardPush,
        Self::ChatSend,
        Self::CartChange,
        Self::Checkout,
    ];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Welcome => "hello → welcome",
            Self::Resume => "drop → resumed welcome",
            Self::CatchUp => "drop → caught up",
            Self::SessionStart => "session.start",
            Self::CardPush => "card.push",
            Self::ChatSend => "chat.send",
            Self::CartChange => "cart.add / set_quantity",
            Self::Checkout => "checkout",
        }
    }

    /// Whether it is a command with a reply (the rest are connection steps).
    pub fn is_command(self) -> bool {
        !matches!(
            self,
            Self::Connect | Self::Welcome | Self::Resume | Self::CatchUp
        )
    }
}

/// Weights of customer behaviours, such as `watcher=1,chatter=1,buyer=1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mix {
    weights: Vec<(Behaviour, u32)>,
}

/// A mix that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("bad customer mix {text:?}: {why} (expected e.g. watcher=1,chatter=1,buyer=1)")]
pub struct MixError {
    text: String,
    why: String,
}

impl FromStr for Mix {
    type Err = MixError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |why: String| MixError {
            text: text.into(),
            why,
        };
        let mut weights = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let behaviour = match name.trim() {
                "watcher" => Behaviour::Watcher,
                "chatter" => Behaviour::Chatter,
                "buyer" => Behaviour::Buyer,
                other => return Err(err(format!("unknown behaviour {other:?}"))),
            };
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| err(format!("weight of {name} is not a whole number")))?;
            if weight > 1000 {
                return Err(err(format!("weight of {name} is over 1000")));
            }
            if weights.iter().any(|(b, _)| *b == behaviour) {
                return Err(err(format!("{name} is given twice")));
            }
            weights.push((behaviour, weight));
        }
        if weights.iter().all(|(_, w)| *w == 0) {
            return Err(err("no behaviour has a weight above zero".into()));
        }
        Ok(Self { weights })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .weights
            .iter()
            .map(|(b, w)| format!("{}={w}", b.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Mix {
    /// Only watchers.
    pub fn watchers() -> Self {
        Self {
            weights: vec![(Behaviour::Watcher, 1)],
        }
    }

    /// Whether every customer only receives.
    pub fn only_watchers(&self) -> bool {
        self.weights
            .iter()
            .all(|(b, w)| *b == Behaviour::Watcher || *w == 0)
    }

    /// The behaviour of the `n`-th customer of the run. Weighted round robin: over each
    /// cycle of `sum(weights)` customers every behaviour gets exactly its weight, spread
    /// out rather than bunched, so any run of customers follows the mix closely.
    pub fn assign(&self, n: usize) -> Behaviour {
        let total: u64 = self.weights.iter().map(|(_, w)| u64::from(*w)).sum();
        let slot = (n as u64) % total;
        // Smooth weighted round robin over one cycle, recomputed: cheap for small totals.
        let mut current: Vec<i64> = vec![0; self.weights.len()];
        let mut chosen = 0;
        for _ in 0..=slot {
            for (c, (_, w)) in current.iter_mut().zip(&self.weights) {
                *c += i64::from(*w);
            }
            chosen = (0..current.len())
                .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            current[chosen] -= total as i64;
        }
        self.weights[chosen].0
    }
}

/// Whether session `index` is one of the checkout sessions: exactly
/// `round(fraction × sessions)` of them, spread evenly.
pub fn is_checkout_session(index: usize, fraction: f64) -> bool {
    let before = (index as f64 * fraction).floor();
    let after = ((index + 1) as f64 * fraction).floor();
    after > before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_gives_each_behaviour_its_weight_over_a_cycle() {
        let mix: Mix = "watcher=2,chatter=1,buyer=1".parse().unwrap();
        let assigned: Vec<Behaviour> = (0..8).map(|n| mix.assign(n)).collect();
        let count = |b| assigned.iter().filter(|&&a| a == b).count();
        assert_eq!(count(Behaviour::Watcher), 4);
        assert_eq!(count(Behaviour::Chatter), 2);
        assert_eq!(count(Behaviour::Buyer), 2);
        assert_ne!(assigned[0], assigned[1], "spread out, not bunched");
    }

    #[test]
    fn bad_mixes_are_clear_errors() {
        assert!("dancer=1".parse::<Mix>().is_err());
        assert!("watcher=x".parse::<Mix>().is_err());
        assert!("watcher=0".parse::<Mix>().is_err());
        assert!("watcher=1,watcher=2".parse::<Mix>().is_err());
        assert_eq!(
            "buyer".parse::<Mix>().unwrap().to_string(),
            "buyer=1".to_string()
        );
    }

    #[test]
    fn checkout_sessions_are_the_given_fraction() {
        let n = (0..100).filter(|&i| is_checkout_session(i, 0.2)).count();
        assert_eq!(n, 20);
        assert_eq!((0..10).filter(|&i| is_checkout_session(i, 0.0)).count(), 0);
        assert_eq!((0..10).filter(|&i| is_checkout_session(i, 1.0)).count(), 10);
    }
}
