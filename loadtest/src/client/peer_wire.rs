//! The peers' framings, written from their documented frames: Socket.IO 4 (Engine.IO v4
//! over a WebSocket) and the plain-WebSocket variant with one JSON object per frame.
//!
//! Neither peer numbers events, so the shopper puts its own running number `ev` in every
//! card and chat; receivers read it back for delivery accounting and latency.

use std::sync::OnceLock;

use serde_json::Value;

use super::wire::{Command, Incoming, Join, Wire};
use crate::ledger::kind_name;

/// A card payload of about 1 KiB, shaped like a product card, without its braces so that
/// the running number can be put in front.
fn card_body() -> &'static str {
    static BODY: OnceLock<String> = OnceLock::new();
    BODY.get_or_init(|| {
        let variants: Vec<Value> = ["S", "M", "L", "XL"]
            .iter()
            .enumerate()
            .map(|(i, size)| {
                serde_json::json!({
                    "variant_id": format!("VDS-KNT-MCS-{size}-OAT"),
                    "sku": format!("VDS-KNT-MCS-{size}-OAT"),
                    "options": {"Size": size, "Colour": "Oatmeal"},
                    "price": {"amount_minor": 12900, "currency": "USD"},
                    "available": true,
                    "stock": 8 - i,
                })
            })
            .collect();
        let card = serde_json::json!({
            "product_id": "merino-crew-sweater",
            "title": "Merino Crew Sweater",
            "vendor": "Fold & Fibre",
            "images": [
                "/demo/images/merino-crew-sweater.svg",
                "/demo/images/merino-crew-sweater-forest.svg"
            ],
            "price": {"amount_minor": 12900, "currency": "USD"},
            "compare_at_price": {"amount_minor": 15900, "currency": "USD"},
            "collection": "knitwear",
            "variants": variants,
            "in_stock": true,
        });
        let text = card.to_string();
        // The object's text without its opening and closing braces.
        text[1..text.len() - 1].to_owned()
    })
}

fn payload(command: &Command<'_>, event: u64) -> (&'static str, String) {
    match command {
        Command::Card { .. } => ("card", format!("{{\"ev\":{event},{}}}", card_body())),
        Command::Chat { text } => (
            "chat",
            format!("{{\"ev\":{event},\"text\":{}}}", Value::from(*text)),
        ),
        // The peers carry cards and chat only; the plan refuses other behaviours.
        _ => ("chat", format!("{{\"ev\":{event},\"text\":\"-\"}}")),
    }
}

fn role(join: &Join<'_>) -> &'static str {
    if join.shopper {
        "shopper"
    } else {
        "customer"
    }
}

/// Reads the `ev` number out of a delivered payload.
fn event_number(payload: &Value) -> Result<u64, String> {
    payload["ev"]
        .as_u64()
        .ok_or_else(|| format!("a delivered payload has no \"ev\" number: {payload}"))
}

/// Socket.IO 4 over a WebSocket.
pub struct SocketIoWire;

impl Wire for SocketIoWire {
    fn greets_first(&self) -> bool {
        true
    }

    fn open_reply(&self) -> &'static str {
        "40"
    }

    fn join(&self, join: &Join<'_>) -> String {
        let body = serde_json::json!({"session": join.session_id, "role": role(join)});
        format!("42{}[\"join\",{body}]", join.id)
    }

    fn command(&self, id: u64, command: &Command<'_>, event: u64) -> String {
        let (name, body) = payload(command, event);
        format!("42{id}[\"{name}\",{body}]")
    }

    fn decode(&self, text: &str) -> Result<Incoming, String> {
        let mut chars = text.chars();
        match chars.next() {
            Some('0') => return Ok(Incoming::Open),
            Some('2') => return Ok(Incoming::Answer("3")),
            Some('3') => return Ok(Incoming::Ignore),
            Some('1') => return Ok(Incoming::Gone),
            Some('4') => {}
            _ => return Err("not an Engine.IO packet".into()),
        }
        let rest = &text[1..];
        match rest.chars().next() {
            Some('0') => Ok(Incoming::Connected),
            Some('1') => Ok(Incoming::Gone),
            Some('4') => Ok(Incoming::Error {
                code: "connect_error".into(),
            }),
            Some('3') => {
                let body = &rest[1..];
                let digits = body.bytes().take_while(u8::is_ascii_digit).count();
                let id: u64 = body[..digits]
                    .parse()
                    .map_err(|_| "an ack without an id".to_string())?;
                let args: Value = serde_json::from_str(&body[digits..])
                    .map_err(|e| format!("an ack whose arguments are not JSON: {e}"))?;
                let ok = args[0]["ok"] == true;
                Ok(Incoming::Reply {
                    id,
                    ok,
                    seq: None,
                    code: (!ok).then(|| args[0]["error"].as_str().unwrap_or("not ok").to_owned()),
                })
            }
            Some('2') => {
                let body = &rest[1..];
                let digits = body.bytes().take_while(u8::is_ascii_digit).count();
                let args: Value = serde_json::from_str(&body[digits..])
                    .map_err(|e| format!("an event whose arguments are not JSON: {e}"))?;
                let name = args[0].as_str().unwrap_or_default();
                Ok(Incoming::Event {
                    seq: event_number(&args[1])?,
                    kind: kind_name(name),
                    by: None,
                })
            }
            _ => Err("not a Socket.IO packet".into()),
        }
    }
}

/// The plain-WebSocket peer: `{"type": …}` objects.
pub struct RawWsWire;

impl Wire for RawWsWire {
    fn join(&self, join: &Join<'_>) -> String {
        serde_json::json!({
            "type": "join", "id": join.id, "session": join.session_id, "role": role(join)
        })
        .to_string()
    }

    fn command(&self, id: u64, command: &Command<'_>, event: u64) -> String {
        let (name, body) = payload(command, event);
        // `{"type":…,"id":…,` followed by the payload without its opening brace.
        format!("{{\"type\":\"{name}\",\"id\":{id},{}", &body[1..])
    }

    fn decode(&self, text: &str) -> Result<Incoming, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match v["type"].as_str() {
            Some("ack") => {
                let ok = v["ok"] == true;
                Ok(Incoming::Reply {
                    id: v["id"].as_u64().ok_or("an ack without a numeric id")?,
                    ok,
                    seq: None,
                    code: (!ok).then(|| "not ok".to_owned()),
                })
            }
            Some("ping") => Ok(Incoming::Answer("{\"type\":\"pong\"}")),
            Some(kind @ ("card" | "chat")) => Ok(Incoming::Event {
                seq: event_number(&v)?,
                kind: kind_name(kind),
                by: None,
            }),
            _ => Err("a frame of unknown type".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_io_frames_round_trip() {
        let w = SocketIoWire;
        let card = w.command(7, &Command::Card { product: "x" }, 3);
        assert!(card.starts_with("427[\"card\",{\"ev\":3,"));
        assert!(card.len() > 900 && card.len() < 1300, "{}", card.len());
        let delivered = format!("42[\"card\",{}]", &card[11..card.len() - 1]);
        assert_eq!(
            w.decode(&delivered).unwrap(),
            Incoming::Event {
                seq: 3,
                kind: "card",
                by: None
            }
        );
        assert_eq!(
            w.decode("437[{\"ok\":true,\"ts\":1}]").unwrap(),
            Incoming::Reply {
                id: 7,
                ok: true,
                seq: None,
                code: None
            }
        );
        assert_eq!(w.decode("2").unwrap(), Incoming::Answer("3"));
        assert_eq!(w.decode("0{\"sid\":\"a\"}").unwrap(), Incoming::Open);
        assert_eq!(w.decode("40{\"sid\":\"b\"}").unwrap(), Incoming::Connected);
        assert!(w.decode("42[\"card\",{}]").is_err());
        assert!(w.decode("x").is_err());
    }

    #[test]
    fn raw_ws_frames_round_trip() {
        let w = RawWsWire;
        let chat = w.command(
            4,
            &Command::Chat {
                text: "hé \"you\""
            },
            9,
        );
        let v: Value = serde_json::from_str(&chat).unwrap();
        assert_eq!(v["type"], "chat");
        assert_eq!(v["id"], 4);
        assert_eq!(v["ev"], 9);
        assert_eq!(v["text"], "hé \"you\"");
        assert_eq!(
            w.decode("{\"type\":\"chat\",\"ev\":9,\"from\":\"c1\"}")
                .unwrap(),
            Incoming::Event {
                seq: 9,
                kind: "chat",
                by: None
            }
        );
        assert_eq!(
            w.decode("{\"type\":\"ping\"}").unwrap(),
            Incoming::Answer("{\"type\":\"pong\"}")
        );
    }
}
