//! `/v1/ws`: WebSocket connections.
//!
//! Each socket gets a [`connection::WsConnection`] actor fed by actix-ws's message stream,
//! and a writer task that owns the socket's sending half. The session actor offers frames
//! to the connection's bounded outbound queue; the writer drains it into the socket.

mod connection;
mod rate;
mod writer;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix::{Actor, AsyncContext};
use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::mpsc;
use vitrine_engine::session::outbound;

use crate::state::AppState;

pub use connection::WsConnection;

/// Control frames waiting for the writer (pongs, pings, one close).
const CONTROL_QUEUE: usize = 16;

/// Upgrades the request and starts the connection's actor and writer.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    app: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let ws = &app.settings.ws;
    let stream = stream
        .max_frame_size(ws.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(ws.max_frame_bytes);

    let (out, frames) = outbound(ws.outbound_queue, ws.frame_burst as usize);
    let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
    let id = app.next_connection_id.fetch_add(1, Ordering::Relaxed);
    let app: Arc<AppState> = app.into_inner();

    let writer = actix_web::rt::spawn(writer::run(session, frames, control_rx));
    WsConnection::create(move |ctx| {
        ctx.add_stream(stream);
        WsConnection::new(id, app, out, control_tx).watching(writer, ctx)
    });
    Ok(response)
}
