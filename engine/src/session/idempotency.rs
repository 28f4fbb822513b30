//! Replies remembered per session, so a command re-sent with the same id takes effect once
//! and the repeat gets the original reply.
//!
//! A reply is kept as its encoded JSON, not as a value tree: a `card.push` reply carries a
//! whole card, and a thousand such trees per session cost several times their text. The
//! text is decoded only when a retry asks for it, which is rare.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use vitrine_persistence::model::{CommandRecord, ParticipantId};

use super::commands::CommandReply;

type Key = (ParticipantId, String);

/// Most replies one session remembers, whatever their age.
pub(crate) const HARD_CAP_FACTOR: usize = 16;

/// One remembered reply: its encoded JSON and when the command was applied.
struct Remembered {
    text: Box<str>,
    at: DateTime<Utc>,
}

/// The replies of one session: at least the newest `capacity`, and every one younger than
/// `ttl`, up to a hard cap that bounds memory.
pub(crate) struct ReplyCache {
    capacity: usize,
    ttl: chrono::Duration,
    replies: HashMap<Key, Remembered>,
    order: VecDeque<Key>,
}

impl ReplyCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity,
            ttl: chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(24)),
            replies: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The remembered reply to `key`, decoded.
    pub(crate) fn get(&self, key: &Key) -> Option<CommandReply> {
        let remembered = self.replies.get(key)?;
        match serde_json::from_str(&remembered.text) {
            Ok(reply) => Some(reply),
            Err(e) => {
                // Not reached: the text was encoded from a reply by this same type.
                tracing::error!(error = %e, command_id = %key.1, "remembered reply does not decode");
                None
            }
        }
    }

    /// Most replies kept at once.
    pub(crate) fn hard_cap(&self) -> usize {
        self.capacity * HARD_CAP_FACTOR
    }

    pub(crate) fn insert(&mut self, key: Key, reply: &CommandReply) {
        self.insert_at(key, reply, Utc::now());
    }

    fn insert_at(&mut self, key: Key, reply: &CommandReply, at: DateTime<Utc>) {
        let text = match serde_json::to_string(reply) {
            Ok(text) => text.into_boxed_str(),
            Err(e) => {
                // Not reached: replies hold only strings, numbers and JSON values.
                tracing::error!(error = %e, command_id = %key.1, "reply does not encode");
                return;
            }
        };
        if self
            .replies
            .insert(key.clone(), Remembered { text, at })
            .is_none()
        {
            self.order.push_back(key);
        }
        // Past the count bound, the oldest go once they are also past the age bound.
        let now = Utc::now();
        while self.order.len() > self.capacity {
            let Some(oldest) = self.order.front() else {
                break;
            };
            let expired = self
                .replies
                .get(oldest)
                .is_none_or(|r| now - r.at > self.ttl);
            if !expired && self.order.len() <= self.hard_cap() {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.replies.remove(&old);
            }
        }
    }

    /// Refills the cache from stored command records, oldest first.
    pub(crate) fn restore(&mut self, records: Vec<CommandRecord>) {
        self.replies.clear();
        self.order.clear();
        for r in records {
            if let Ok(reply) = serde_json::from_value::<CommandReply>(r.reply) {
                self.insert_at((r.participant_id, r.command_id), &reply, r.at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> Key {
        (ParticipantId::new("par_1"), format!("c-{n}"))
    }

    fn reply(n: usize) -> CommandReply {
        CommandReply::ok(Some(n as u64), serde_json::json!({}))
    }

    #[test]
    fn recent_replies_stay_past_the_count_bound() {
        let mut cache = ReplyCache::new(2, Duration::from_secs(60));
        for n in 0..5 {
            cache.insert(key(n), &reply(n));
        }
        assert_eq!(cache.get(&key(0)).unwrap().seq, Some(0));
    }

    #[test]
    fn old_replies_stay_within_the_count_bound() {
        let mut cache = ReplyCache::new(10, Duration::from_secs(60));
        let old = Utc::now() - chrono::Duration::hours(48);
        cache.insert_at(key(1), &reply(1), old);
        assert_eq!(cache.get(&key(1)).unwrap().seq, Some(1));
    }

    #[test]
    fn replies_past_both_bounds_are_forgotten_oldest_first() {
        let mut cache = ReplyCache::new(2, Duration::from_secs(60));
        let old = Utc::now() - chrono::Duration::hours(48);
        cache.insert_at(key(0), &reply(0), old);
        cache.insert_at(key(1), &reply(1), old);
        cache.insert(key(2), &reply(2));
        assert!(cache.get(&key(0)).is_none());
        assert!(cache.get(&key(1)).is_some());
    }

    #[test]
    fn the_hard_cap_bounds_memory_whatever_the_age() {
        let mut cache = ReplyCache::new(2, Duration::from_secs(3600));
        for n in 0..100 {
            cache.insert(key(n), &reply(n));
        }
        assert_eq!(cache.replies.len(), cache.hard_cap());
        assert!(cache.get(&key(0)).is_none());
        assert!(cache.get(&key(99)).is_some());
    }

    #[test]
    fn a_remembered_reply_comes_back_identical() {
        let mut cache = ReplyCache::new(4, Duration::from_secs(60));
        let sent = CommandReply::ok(
            Some(7),
            serde_json::json!({
                "card": {"title": "Robe ¿lin? 👗", "price": {"amount_minor": 12_900}, "images": []},
                "ratio": 0.1,
            }),
        );
        cache.insert(key(1), &sent);
        assert_eq!(cache.get(&key(1)), Some(sent));
    }
}
