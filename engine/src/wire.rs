//! The frames a session sends to its participants, serialised once per event and shared
//! by every recipient. Field names are those of the wire contract.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use vitrine_persistence::model::{NewEvent, ParticipantId, StoredEvent};

use crate::events::SessionEvent;
use crate::identity::Role;
use crate::session::SessionView;

#[derive(Serialize)]
struct EventFrame<'a> {
    r#type: &'static str,
    seq: u64,
    at: &'a DateTime<Utc>,
    kind: &'a str,
    by: Option<&'a ParticipantId>,
    data: &'a serde_json::Value,
}

fn encode<T: Serialize>(frame: &T) -> Arc<str> {
    // unwrap: these frames hold only strings, numbers and JSON values, which always encode.
    serde_json::to_string(frame)
        .expect("session frames always encode")
        .into()
}

/// The `event` frame of an event just applied.
pub fn event_frame(e: &SessionEvent) -> Arc<str> {
    encode(&EventFrame {
        r#type: "event",
        seq: e.seq,
        at: &e.at,
        kind: e.body.kind(),
        by: e.by.as_ref(),
        data: &e.body.data(),
    })
}

/// The stored form of an event just applied, and its `event` frame, from one encoding of
/// its data (the data is the costly part: a shared card carries the whole card).
pub fn stored_and_frame(e: &SessionEvent) -> (NewEvent, Arc<str>) {
    let data = e.body.data();
    let kind = e.body.kind();
    let frame = encode(&EventFrame {
        r#type: "event",
        seq: e.seq,
        at: &e.at,
        kind,
        by: e.by.as_ref(),
        data: &data,
    });
    let stored = NewEvent {
        kind: kind.to_owned(),
        at: e.at,
        by: e.by.clone(),
        data,
    };
    (stored, frame)
}

/// The `event` frame of an event read back from the log.
pub fn stored_event_frame(e: &StoredEvent) -> Arc<str> {
    encode(&EventFrame {
        r#type: "event",
        seq: e.seq,
        at: &e.at,
        kind: &e.kind,
        by: e.by.as_ref(),
        data: &e.data,
    })
}

#[derive(Serialize)]
struct WelcomeFrame<'a> {
    r#type: &'static str,
    participant_id: &'a ParticipantId,
    role: Role,
    seq: u64,
    session: &'a SessionView,
}

/// The `welcome` frame answering a `hello`.
pub fn welcome_frame(participant: &ParticipantId, role: Role, view: &SessionView) -> Arc<str> {
    encode(&WelcomeFrame {
        r#type: "welcome",
        participant_id: participant,
        role,
        seq: view.seq,
        session: view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBody;

    #[test]
    fn the_shared_encoding_matches_the_separate_ones() {
        let event = SessionEvent {
            seq: 9,
            at: vitrine_persistence::now(),
            by: Some(ParticipantId::new("par_1")),
            body: EventBody::ChatMessage {
                text: "¿talla M? 👗".into(),
            },
        };
        let (stored, frame) = stored_and_frame(&event);
        assert_eq!(frame, event_frame(&event));
        assert_eq!(stored, event.to_new_event());
    }
}
