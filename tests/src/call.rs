//! A live call set up for a test: a shopper and a customer connected to one session.

use serde_json::json;

use crate::http::Api;
use crate::ws::WsClient;

/// Everything a test needs about one live call.
pub struct Call {
    /// The session.
    pub session_id: String,
    /// The shopper's staff token.
    pub shopper_token: String,
    /// The customer's session token.
    pub customer_token: String,
    /// The shopper's connection.
    pub shopper: WsClient,
    /// The customer's connection.
    pub customer: WsClient,
}

impl Call {
    /// Creates a shopper and a widget session, connects both and starts the call.
    pub async fn start(api: &Api, admin: &str) -> Self {
        let (_, shopper_token) = api.shopper(admin, "Ana Shopper", &["watches"]).await;
        let (session_id, customer_token) = api.widget_session("pk_demo", "Carla Customer").await;
        let mut shopper = WsClient::connect(api).await;
        shopper.hello(&shopper_token, &session_id, None).await;
        let mut customer = WsClient::connect(api).await;
        customer.hello(&customer_token, &session_id, None).await;
        let started = shopper.command(json!({"type": "session.start"})).await;
        assert!(started.ok, "{started:?}");
        Self {
            session_id,
            shopper_token,
            customer_token,
            shopper,
            customer,
        }
    }

    /// Another connection of the customer.
    pub async fn second_customer_connection(&self, api: &Api) -> WsClient {
        let mut c = WsClient::connect(api).await;
        c.hello(&self.customer_token, &self.session_id, None).await;
        c
    }
}

/// A `card.push` of a demo catalog product.
pub fn push_card(note: &str) -> serde_json::Value {
    json!({"type": "card.push", "product_id": "cafe-creme-mug", "note": note})
}

/// Variants of the demo catalog that tests rely on.
pub mod demo {
    /// A variant with plenty of stock.
    pub const PLENTIFUL: &str = "VDS-HOM-MUG-CRM";
    /// A variant with exactly one unit.
    pub const LAST_UNIT: &str = "VDS-WAT-MER-42MM-BLA";
}
