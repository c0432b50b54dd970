use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Logs to stderr, as text or one JSON object per line. `RUST_LOG` overrides the level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn,axum_login=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Names the order a request is about in its log span (the `order` field of the request
/// line), so `grep`/`jq` on an order number finds every request that touched it.
pub fn record_order(out_trade_no: &str) {
    tracing::Span::current().record("order", out_trade_no);
}
