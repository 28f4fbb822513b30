//! Replies remembered per session, so a command re-sent with the same id takes effect once
//! and the repeat gets the original reply.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use vitrine_persistence::model::{CommandRecord, ParticipantId};

use super::commands::CommandReply;

type Key = (ParticipantId, String);

/// The newest replies of one session, bounded by count and age.
pub(crate) struct ReplyCache {
    capacity: usize,
    ttl: chrono::Duration,
    replies: HashMap<Key, (CommandReply, DateTime<Utc>)>,
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

    /// The remembered reply to `key`, if it is not too old.
    pub(crate) fn get(&self, key: &Key) -> Option<CommandReply> {
        let (reply, at) = self.replies.get(key)?;
        (Utc::now() - *at <= self.ttl).then(|| reply.clone())
    }

    pub(crate) fn insert(&mut self, key: Key, reply: CommandReply) {
        self.insert_at(key, reply, Utc::now());
    }

    fn insert_at(&mut self, key: Key, reply: CommandReply, at: DateTime<Utc>) {
        if self.replies.insert(key.clone(), (reply, at)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
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
                self.insert_at((r.participant_id, r.command_id), reply, r.at);
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

    #[test]
    fn the_oldest_replies_go_first_past_capacity() {
        let mut cache = ReplyCache::new(2, Duration::from_secs(60));
        for n in 0..3 {
            cache.insert(
                key(n),
                CommandReply::ok(Some(n as u64), serde_json::json!({})),
            );
        }
        assert!(cache.get(&key(0)).is_none());
        assert_eq!(cache.get(&key(2)).unwrap().seq, Some(2));
    }

    #[test]
    fn replies_older_than_the_ttl_are_forgotten() {
        let mut cache = ReplyCache::new(10, Duration::from_secs(60));
        let old = Utc::now() - chrono::Duration::minutes(5);
        cache.insert_at(key(1), CommandReply::ok(None, serde_json::json!({})), old);
        assert!(cache.get(&key(1)).is_none());
    }
}
