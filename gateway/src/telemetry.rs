//! Logs, traces and metrics.
//!
//! - Logs: `tracing` with `RUST_LOG` filters, human-readable or JSON lines
//!   (`VITRINE_LOG_FORMAT=json`).
//! - Traces: spans for HTTP requests, WebSocket commands and store calls, exported over
//!   OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (protocol from
//!   `OTEL_EXPORTER_OTLP_PROTOCOL`, protobuf by default). Without it nothing is exported
//!   and no exporter runs.
//! - Metrics: a Prometheus recorder behind the `metrics` facade, rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, Layer};

/// Spans exported as traces: our crates in detail, HTTP requests, little else.
const TRACE_TARGETS: &[(&str, tracing::Level)] = &[
    ("vitrine_gateway", tracing::Level::DEBUG),
    ("vitrine_engine", tracing::Level::DEBUG),
    ("vitrine_persistence", tracing::Level::DEBUG),
    ("tracing_actix_web", tracing::Level::INFO),
];

/// Keeps the trace exporter alive; flush it with [`Telemetry::shutdown`].
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether traces are being exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends every span still buffered and stops the exporter.
    pub fn shutdown(&self) {
        if let Some(provider) = &self.provider {
            if let Err(e) = provider.force_flush() {
                tracing::warn!(error = %e, "could not flush traces");
            }
            let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
        }
    }
}

fn tracer_provider() -> Option<SdkTracerProvider> {
    std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            // Logging is not up yet: say it on stderr, and run without traces.
            eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT is set but the exporter failed: {e}");
            return None;
        }
    };
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("vitrine")
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// Installs logging and, when configured, trace export. Later calls do nothing (and
/// export nothing): one process has one subscriber.
pub fn init() -> Telemetry {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return Telemetry { provider: None };
    }

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("VITRINE_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = if json {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    } else {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    };

    let provider = tracer_provider();
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("vitrine"))
            .with_filter(Targets::new().with_targets(TRACE_TARGETS.iter().copied()))
    });
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init();
    Telemetry { provider }
}

/// The process's metrics recorder, installed on first use.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        use vitrine_engine::metrics as m;
        let seconds = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ];
        let sizes = [
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(m::COMMAND_DURATION.into()),
                &seconds,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(m::FANOUT_LATENCY.into()),
                    &seconds,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(m::GROUP_COMMIT_DURATION.into()),
                    &seconds,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(m::GROUP_COMMIT_SIZE.into()),
                    &sizes,
                )
            })
            // unwrap: the bucket lists above are constant and non-empty.
            .expect("valid buckets");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        describe();
        // Counters that may stay at zero for a long time are shown from the start.
        metrics::counter!(m::OUTBOUND_DROPS).increment(0);
        for operation in ["append", "load", "http"] {
            for kind in ["unavailable", "internal"] {
                metrics::counter!(m::STORE_ERRORS, "operation" => operation, "kind" => kind)
                    .increment(0);
            }
        }
        handle
    })
}

/// Help texts of every metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    use vitrine_engine::metrics as m;
    describe_gauge!(m::LIVE_SESSIONS, "Session actors live in this process");
    describe_gauge!(m::CONNECTED_PARTICIPANTS, "Connected participants, by role");
    describe_gauge!(m::WS_CONNECTIONS, "Open WebSocket connections");
    describe_counter!(
        m::COMMANDS,
        "Commands handled, by command, outcome and tenant"
    );
    describe_histogram!(
        m::COMMAND_DURATION,
        Unit::Seconds,
        "Command arrival to reply"
    );
    describe_histogram!(
        m::FANOUT_LATENCY,
        Unit::Seconds,
        "Event creation to its frame handed to a participant's socket"
    );
    describe_counter!(m::EVENTS_APPENDED, "Events stored, by tenant");
    describe_histogram!(m::GROUP_COMMIT_SIZE, "Appends per group commit");
    describe_histogram!(
        m::GROUP_COMMIT_DURATION,
        Unit::Seconds,
        "Group commit duration"
    );
    describe_counter!(m::OUTBOUND_DROPS, "Connections cut off as too slow (4429)");
    describe_counter!(m::STORE_ERRORS, "Failed store calls, by operation and kind");
}

/// The root span of each HTTP request: method and route template only, so that ids,
/// query strings (which may hold tokens) and client addresses stay out of traces and logs.
pub struct HttpSpans;

impl tracing_actix_web::RootSpanBuilder for HttpSpans {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let method = request.method().as_str().to_owned();
        tracing::info_span!(
            "http.request",
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            http.method = %method,
            http.route = %route,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
    }
}

/// Reports every group commit of the store as metrics.
pub struct GroupCommitMetrics;

impl vitrine_persistence::BatchObserver for GroupCommitMetrics {
    fn committed(&self, size: usize, elapsed: Duration) {
        use vitrine_engine::metrics as m;
        metrics::histogram!(m::GROUP_COMMIT_SIZE).record(size as f64);
        metrics::histogram!(m::GROUP_COMMIT_DURATION).record(elapsed.as_secs_f64());
    }
}
