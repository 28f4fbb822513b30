//! The names of everything Vitrine keeps in Redis. Each starts with the deployment's
//! prefix (`redis.prefix`, `vitrine` by default), so several deployments can share one
//! Redis without seeing each other.
//!
//! | name | kind | holds |
//! |---|---|---|
//! | `{prefix}:nodes` | set | the ids of nodes that announced themselves |
//! | `{prefix}:node:{node}` | string, TTL = half a lease | the node's announcement (JSON) |
//! | `{prefix}:lease:{tenant}:{session}` | string, TTL = lease | `{node}\|{activation}\|{epoch}` of the session's owner |
//! | `{prefix}:inbox:{node}` | channel | requests to a node and its replies |
//! | `{prefix}:events:{tenant}:{session}` | channel | a session's stored events, heartbeats and moves |

use crate::directory::SessionKey;

/// Builds key and channel names under one prefix.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Names under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The set of announced node ids.
    pub fn nodes(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    /// A node's announcement; it lapses unless the node renews it.
    pub fn node(&self, node: &str) -> String {
        format!("{}:node:{node}", self.prefix)
    }

    /// The lease of a session's owner.
    pub fn lease(&self, key: &SessionKey) -> String {
        format!("{}:lease:{}:{}", self.prefix, key.tenant, key.session)
    }

    /// The channel a node listens on for requests and replies.
    pub fn inbox(&self, node: &str) -> String {
        format!("{}:inbox:{node}", self.prefix)
    }

    /// The channel a session's owner publishes its events on.
    pub fn events(&self, key: &SessionKey) -> String {
        format!("{}:events:{}:{}", self.prefix, key.tenant, key.session)
    }

    /// The start of every session event channel's name.
    pub fn events_prefix(&self) -> String {
        format!("{}:events:", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitrine_persistence::model::{SessionId, TenantId};

    #[test]
    fn every_name_starts_with_the_prefix() {
        let keys = Keys::new("shop1");
        let key = SessionKey {
            tenant: TenantId::new("demo"),
            session: SessionId::new("ses_1"),
        };
        assert_eq!(keys.lease(&key), "shop1:lease:demo:ses_1");
        assert_eq!(keys.events(&key), "shop1:events:demo:ses_1");
        assert!(keys.events(&key).starts_with(&keys.events_prefix()));
        assert_eq!(keys.inbox("n1"), "shop1:inbox:n1");
        assert_eq!(keys.node("n1"), "shop1:node:n1");
        assert_eq!(keys.nodes(), "shop1:nodes");
    }
}
