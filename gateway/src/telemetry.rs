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

    /// Sends every span still buffered and stops the exporter, giving up after `within`
    /// (a collector that never answers must not hold the process past its shutdown bound).
    pub fn shutdown(&self, within: Duration) {
        if let Some(provider) = &self.provider {
            // Shutting down exports what is buffered first; one call keeps to one bound.
            if let Err(e) = provider.shutdown_with_timeout(within) {
                tracing::warn!(error = %e, within_ms = within.as_millis() as u64,
                    "could not flush traces; buffered spans are dropped");
            }
        }
    }
}

/// The OTLP/HTTP encoding asked for by `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or
/// `OTEL_EXPORTER_OTLP_PROTOCOL` (first set wins): `http/protobuf` when neither is set,
/// as the OpenTelemetry specification says, or an error naming an unusable value.
fn otlp_protocol(
    traces: Option<&str>,
    general: Option<&str>,
) -> Result<opentelemetry_otlp::Protocol, String> {
    use opentelemetry_otlp::Protocol;
    let asked = [traces, general]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|v| !v.is_empty());
    match asked.map(str::to_ascii_lowercase).as_deref() {
        None | Some("http/protobuf") => Ok(Protocol::HttpBinary),
        Some("http/json") => Ok(Protocol::HttpJson),
        Some(other) => Err(format!(
            "unsupported OTLP protocol {other:?}; use http/protobuf or http/json"
        )),
    }
}

fn tracer_provider() -> Option<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let traces = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").ok();
    let general = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").ok();
    let protocol = match otlp_protocol(traces.as_deref(), general.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            // Logging is not up yet: say it on stderr, and run without traces.
            eprintln!("OTEL_EXPORTER_OTLP_PROTOCOL: {e}; traces are not exported");
            return None;
        }
    };
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
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

/// Dependencies that log statement parameters, headers or message bodies at debug and
/// trace (`tokio_postgres::query` logs every bound value, customer emails included).
const QUIET_TARGETS: &[&str] = &[
    "tokio_postgres",
    "postgres_protocol",
    "deadpool_postgres",
    "rusqlite",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tungstenite",
    "tokio_tungstenite",
    "actix_http",
];

/// Whether a `RUST_LOG` value names `target` (or one of its modules) in a directive.
fn names_target(rust_log: &str, target: &str) -> bool {
    rust_log.split(',').any(|directive| {
        let name = directive
            .split(['=', '['])
            .next()
            .unwrap_or_default()
            .trim();
        name == target || name.starts_with(&format!("{target}::"))
    })
}

/// The log filter for a `RUST_LOG` value (info when unset or invalid). Whatever level it
/// sets, [`QUIET_TARGETS`] log at info and above only, unless `RUST_LOG` names them.
fn log_filter(
    rust_log: Option<&str>,
) -> impl tracing_subscriber::layer::Filter<tracing_subscriber::Registry> + Send + Sync + 'static {
    use tracing_subscriber::filter::FilterExt;
    let spec = rust_log.unwrap_or_default();
    let env = EnvFilter::builder()
        .with_default_directive(tracing::Level::INFO.into())
        .parse(spec)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let quiet: Vec<&'static str> = QUIET_TARGETS
        .iter()
        .copied()
        .filter(|t| !names_target(spec, t))
        .collect();
    let floor = tracing_subscriber::filter::filter_fn(move |meta| {
        *meta.level() <= tracing::Level::INFO || !quiet.iter().any(|t| is_within(meta.target(), t))
    });
    env.and(floor)
}

/// Whether a log target is `crate_name` or one of its modules.
fn is_within(target: &str, crate_name: &str) -> bool {
    target
        .strip_prefix(crate_name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Installs logging and, when configured, trace export. Later calls do nothing (and
/// export nothing): one process has one subscriber.
pub fn init() -> Telemetry {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return Telemetry { provider: None };
    }

    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let filter = log_filter(rust_log.as_deref());
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

/// How often recorded histogram samples are drained into their buckets.
const METRICS_UPKEEP: Duration = Duration::from_secs(2);

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
        // Histogram samples wait in lock-free buckets until drained: drain them every few
        // seconds, so an unscraped node neither grows nor pays for a large drain at once.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(METRICS_UPKEEP);
                upkeep.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start draining metrics; they drain on scrape");
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
    describe_counter!(
        m::CLUSTER_DROPPED,
        "Messages to other nodes that could not be published"
    );
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

/// Carries a forwarded command's trace to the node that owns its session, as a W3C
/// `traceparent`, so the command's trace shows both hops. Without an exporter spans are
/// not recorded and nothing is carried.
pub struct W3cTraceContext;

impl vitrine_engine::cluster::TraceContext for W3cTraceContext {
    fn inject(&self, span: &tracing::Span) -> Option<String> {
        use opentelemetry::propagation::TextMapPropagator;
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let cx = span.context();
        if !cx.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = std::collections::HashMap::new();
        opentelemetry_sdk::propagation::TraceContextPropagator::new()
            .inject_context(&cx, &mut carrier);
        carrier.remove("traceparent")
    }

    fn extract(&self, traceparent: &str, span: &tracing::Span) {
        use opentelemetry::propagation::TextMapPropagator;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let carrier =
            std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
        let cx = opentelemetry_sdk::propagation::TraceContextPropagator::new().extract(&carrier);
        // A span that is not recorded has nothing to attach the parent to.
        let _ = span.set_parent(cx);
    }
}

impl vitrine_persistence::BatchObserver for GroupCommitMetrics {
    fn committed(&self, size: usize, elapsed: Duration) {
        use vitrine_engine::metrics as m;
        metrics::histogram!(m::GROUP_COMMIT_SIZE).record(size as f64);
        metrics::histogram!(m::GROUP_COMMIT_DURATION).record(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Log lines written by the layer under test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("capture lock").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What one debug line of ours and of `tokio_postgres` leave in the log under `rust_log`.
    fn logged_under(rust_log: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_writer(move || writer.clone())
                .with_filter(log_filter(Some(rust_log))),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "vitrine_gateway::routes", "ours at debug");
            tracing::debug!(target: "tokio_postgres::query", "executing with parameters");
            tracing::trace!(target: "hyper::proto", "a request body");
            tracing::info!(target: "tokio_postgres::connection", "theirs at info");
        });
        let bytes = captured.0.lock().expect("capture lock").clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn rust_log_debug_leaves_parameter_logging_crates_at_info() {
        let text = logged_under("trace");

        assert!(text.contains("ours at debug"), "{text}");
        assert!(text.contains("theirs at info"), "{text}");
        assert!(!text.contains("executing with parameters"), "{text}");
        assert!(!text.contains("a request body"), "{text}");
    }

    #[test]
    fn naming_a_crate_in_rust_log_lets_it_log_below_info() {
        let text = logged_under("info,tokio_postgres::query=debug");

        assert!(text.contains("executing with parameters"), "{text}");
        assert!(!text.contains("ours at debug"), "{text}");
    }

    #[test]
    fn an_unset_otlp_protocol_means_protobuf_and_json_is_honoured() {
        use opentelemetry_otlp::Protocol;

        assert_eq!(otlp_protocol(None, None), Ok(Protocol::HttpBinary));
        assert_eq!(otlp_protocol(None, Some("  ")), Ok(Protocol::HttpBinary));
        assert_eq!(
            otlp_protocol(None, Some("http/json")),
            Ok(Protocol::HttpJson)
        );
        assert_eq!(
            otlp_protocol(Some("http/protobuf"), Some("http/json")),
            Ok(Protocol::HttpBinary)
        );
        assert!(otlp_protocol(None, Some("grpc")).is_err());
    }
}
