use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Logs to stderr, as text or one JSON object per line. `RUST_LOG` overrides the level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn,axum_login=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| OneLine(std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Writes each log event as exactly one line: line breaks inside it (from a typed user
/// name, an order number, a provider's error text — anything a stranger controls) are
/// written as `\n` / `\r`, so no input can forge a log line. The fmt layer hands over
/// one whole event per `write`, ending in its own newline, which is kept.
pub struct OneLine<W>(pub W);

/// `event` with every CR and LF except a final LF escaped.
pub fn one_line(event: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    if !body.iter().any(|b| *b == b'\n' || *b == b'\r') {
        return std::borrow::Cow::Borrowed(event);
    }
    let mut out = Vec::with_capacity(event.len() + 8);
    for b in body {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(*b),
        }
    }
    out.extend_from_slice(end);
    std::borrow::Cow::Owned(out)
}

impl<W: std::io::Write> std::io::Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(&one_line(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Names the order a request is about in its log span (the `order` field of the request
/// line), so `grep`/`jq` on an order number finds every request that touched it.
pub fn record_order(out_trade_no: &str) {
    tracing::Span::current().record("order", out_trade_no);
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_forged_line_stays_inside_its_event() {
        let event = b"INFO sign-in refused username=eve\nINFO admin signed in\n";
        assert_eq!(
            &*one_line(event),
            &b"INFO sign-in refused username=eve\\nINFO admin signed in\n"[..]
        );
        assert_eq!(&*one_line(b"plain\n"), &b"plain\n"[..]);
        assert_eq!(&*one_line(b"a\rb"), &b"a\\rb"[..]);
    }
}
