//! When each of a participant's transactions is due. The timetable is fixed when the
//! traffic begins and never bends to the server: a send that comes due while the previous
//! one is still unanswered goes out anyway, and one that comes due while the participant
//! cannot send (a stalled socket, a dropped connection) goes out as soon as it can, still
//! stamped with the time it was due.

use std::time::Duration;

use crate::clock::{micros, Micros};
use crate::mix::Behaviour;
use crate::plan::Traffic;

/// A timed action of a behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// The shopper pushes a card.
    Card,
    /// The shopper chats.
    ShopperChat,
    /// A customer chats.
    Chat,
    /// A buyer changes the cart.
    Cart,
}

#[derive(Clone, Copy, Debug)]
struct Timer {
    action: Action,
    every: Micros,
    next: Micros,
}

/// Due times of one participant's actions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Timetable {
    timers: Vec<Timer>,
}

impl Timetable {
    /// The timetable of `behaviour` from `begin`. Participant `member` of `members` gets
    /// its own phase within each interval, so a session's senders do not send together.
    pub fn new(
        behaviour: Behaviour,
        traffic: &Traffic,
        begin: Micros,
        member: usize,
        members: usize,
    ) -> Self {
        let mut timers = Vec::new();
        let mut add = |action, every: Option<Duration>, phase: f64| {
            if let Some(every) = every {
                let every = micros(every).max(1);
                timers.push(Timer {
                    action,
                    every,
                    next: begin + (every as f64 * phase) as Micros,
                });
            }
        };
        let share = member as f64 / members.max(1) as f64;
        match behaviour {
            Behaviour::Host => {
                add(Action::Card, traffic.card_interval, 0.0);
                add(Action::ShopperChat, traffic.shopper_chat_interval, 0.5);
            }
            Behaviour::Watcher => {}
            Behaviour::Chatter => add(Action::Chat, traffic.chat_interval, share),
            Behaviour::Buyer => {
                add(Action::Chat, traffic.chat_interval, share);
                add(Action::Cart, traffic.cart_interval, (share + 0.5).fract());
            }
        }
        Self { timers }
    }

    /// Nothing more is due.
    pub fn clear(&mut self) {
        self.timers.clear();
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<Micros> {
        self.timers.iter().map(|t| t.next).min()
    }

    /// The earliest action due at `now`, with the time it was due, and moves its timer on
    /// by one interval.
    pub fn take_due(&mut self, now: Micros) -> Option<(Action, Micros)> {
        let timer = self
            .timers
            .iter_mut()
            .filter(|t| t.next <= now)
            .min_by_key(|t| t.next)?;
        let due = timer.next;
        timer.next += timer.every;
        Some((timer.action, due))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::Mix;

    fn traffic() -> Traffic {
        Traffic {
            card_interval: Some(Duration::from_millis(500)),
            shopper_chat_interval: None,
            chat_interval: Some(Duration::from_secs(2)),
            cart_interval: Some(Duration::from_secs(3)),
            customer_mix: Mix::watchers(),
            checkout_fraction: 0.0,
        }
    }

    #[test]
    fn missed_sends_all_go_out_with_their_own_due_times() {
        let mut t = Timetable::new(Behaviour::Host, &traffic(), 1_000, 0, 3);
        assert_eq!(t.next_due(), Some(1_000));
        // The participant wakes 1.2 s late: three cards are due, each with its own time.
        let due: Vec<Micros> = std::iter::from_fn(|| t.take_due(1_201_000).map(|d| d.1)).collect();
        assert_eq!(due, vec![1_000, 501_000, 1_001_000]);
        assert_eq!(t.next_due(), Some(1_501_000));
    }

    #[test]
    fn watchers_send_nothing_and_buyers_interleave() {
        assert_eq!(
            Timetable::new(Behaviour::Watcher, &traffic(), 0, 1, 3).next_due(),
            None
        );
        let mut t = Timetable::new(Behaviour::Buyer, &traffic(), 0, 1, 3);
        let first = t.take_due(10_000_000).unwrap();
        assert_eq!(first.0, Action::Chat);
        t.clear();
        assert_eq!(t.next_due(), None);
    }
}
