//! `GET /v1/ws`: the WebSocket. The connection itself lives in [`crate::ws`]; this is its
//! HTTP entry and where the OpenAPI document describes it.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;

/// Opens a WebSocket.
///
/// An HTTP `GET` upgrade to the WebSocket protocol (RFC 6455). The upgrade itself needs no
/// credentials: the first frame must be `hello` with a participant or staff token and the
/// session id, within 5 seconds. Frames, commands, events and close codes are described in
/// `docs/protocol.md` ("WebSocket `/v1/ws`"); they are not part of this document.
///
/// A request that is not a valid upgrade is refused during the handshake, with an empty
/// body rather than the JSON error shape.
#[utoipa::path(
    get,
    path = "/v1/ws",
    tag = "realtime",
    operation_id = "open_websocket",
    params(
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Connection" = String, Header, description = "`Upgrade`"),
        ("Sec-WebSocket-Key" = String, Header, description = "The client's random key"),
        ("Sec-WebSocket-Version" = String, Header, description = "`13`"),
    ),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol; send `hello` next"),
        (status = 400, description = "Not a WebSocket upgrade request (empty body)"),
        (status = 426, description = "A WebSocket version other than 13 (empty body)"),
    )
)]
pub async fn ws(
    req: HttpRequest,
    body: web::Payload,
    app: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    crate::ws::connect(req, body, app).await
}
