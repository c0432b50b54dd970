//! Inbound provider notifications: verify → record and apply (one batched transaction)
//! → answer.
//!
//! Every request is recorded in the inbox, with the event it proved or why it proved
//! nothing, in the same transaction that applies it; the answer is sent only after that
//! commit, so an acknowledged notification is never lost and an unacknowledged one is
//! sent again by the provider. Commits are shared by concurrent notifications (group
//! commit, `store::InboxWriter`). A notification that cannot be checked because our side
//! is broken is kept `received` and picked up again by [`Payments::recover_inbox`];
//! freshness checks (WeChat's 5 minutes, Stripe's 300 s) use the time the request was
//! *received*, so a recovered notification verifies as it would have on arrival.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::Payments;
use crate::channel::{ChannelError, parse_provider};
use crate::provider::{NotifyAck, ProviderKind};
use crate::store::{Applied, InboxEntry, NewNotification, Outcome, Verdict};
use crate::time::now_ms;

/// Headers never stored (they could carry credentials of whoever relays the request).
const DROPPED_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// How old a remembered channel (its keys) may be for verifying a notification.
const CHANNEL_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// Largest notification body accepted (providers send a few KiB).
pub const MAX_NOTIFY_BYTES: usize = 64 * 1024;

/// How much of a notification that failed verification is kept for diagnosis: enough to
/// see what was sent, not enough for anonymous callers to fill the database.
pub const KEPT_REJECTED_BYTES: usize = 2 * 1024;

/// `text` cut to at most `max` bytes at a character boundary, saying how much was cut.
fn truncated(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} bytes not kept]", &text[..end], text.len() - end)
}

/// What the endpoint answers, and what the inbox recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyOutcome {
    pub ack: NotifyAck,
    pub inbox_id: Option<String>,
    pub verdict: Verdict,
    /// Order whose state changed, if any.
    pub changed_order: Option<String>,
    /// The order number the notification is about, once verified (for logs).
    pub out_trade_no: Option<String>,
}

pub(crate) fn headers_json(headers: &HeaderMap) -> String {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if DROPPED_HEADERS.contains(&n) {
            continue;
        }
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(n.to_string())
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn headers_from_json(text: &str) -> HeaderMap {
    let map: BTreeMap<String, String> = serde_json::from_str(text).unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (k, v) in map {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            headers.insert(n, v);
        }
    }
    headers
}

impl Payments {
    /// Handles `POST /notify/{provider}/{channel}`. `None` for an unknown provider name
    /// (nothing to store, no protocol to answer in: the endpoint answers 404).
    ///
    /// Verifies first (CPU only), then records the notification and applies it in one
    /// batched transaction ([`InboxWriter`](crate::store::InboxWriter)); the answer is
    /// built after that commit, so an acknowledged notification is never lost.
    ///
    /// A notification that fails verification is stored (truncated) only if
    /// `keep_rejected()` says so (the caller's per-address quota); otherwise it is answered
    /// 429 and nothing is written. Verified notifications never ask.
    pub async fn receive_notify(
        &self,
        provider: &str,
        channel: &str,
        headers: &HeaderMap,
        body: &[u8],
        keep_rejected: impl FnOnce() -> bool,
    ) -> Option<NotifyOutcome> {
        let kind = parse_provider(provider)?;
        let received_at = now_ms();
        let id = crate::store::new_notification_id();
        let outcome = match std::str::from_utf8(body) {
            Ok(_) => {
                self.verify(kind, channel, &id, headers, body, received_at)
                    .await
            }
            Err(_) => Outcome::Rejected("body is not UTF-8".into()),
        };
        let rejected = matches!(outcome, Outcome::Rejected(_));
        if rejected && !keep_rejected() {
            tracing::debug!(
                provider,
                channel,
                "rejected notification over its sender's quota; not stored"
            );
            return Some(NotifyOutcome {
                ack: NotifyAck {
                    status: 429,
                    ..kind.ack_failure("too many rejected notifications")
                },
                inbox_id: None,
                verdict: Verdict::Rejected,
                changed_order: None,
                out_trade_no: None,
            });
        }
        if let Outcome::Rejected(reason) = &outcome {
            tracing::warn!(inbox_id = %id, provider, channel, reason, "notification rejected");
        }
        let (mut headers_text, mut body_text) = (
            headers_json(headers),
            String::from_utf8_lossy(body).into_owned(),
        );
        if rejected {
            headers_text = truncated(headers_text, KEPT_REJECTED_BYTES);
            body_text = truncated(body_text, KEPT_REJECTED_BYTES);
        }
        let out_trade_no = match &outcome {
            Outcome::Verified(e) => e.out_trade_no().map(str::to_string),
            _ => None,
        };
        let note = NewNotification {
            id: id.clone(),
            provider: kind.as_str().to_string(),
            channel: channel.to_string(),
            received_at,
            headers: headers_text,
            body: body_text,
            outcome,
        };
        Some(match self.inbox_writer.write(note).await {
            Ok(applied) => NotifyOutcome {
                out_trade_no,
                ..self.answer(kind, &id, applied)
            },
            Err(e) => {
                // Not stored, so not acknowledged: the provider will resend.
                tracing::error!(error = %e, inbox_id = %id, provider, channel, "cannot store a notification");
                NotifyOutcome {
                    ack: kind.ack_failure("temporarily unavailable"),
                    inbox_id: None,
                    verdict: Verdict::Received,
                    changed_order: None,
                    out_trade_no,
                }
            }
        })
    }

    /// Checks a notification against its channel's keys: the event it proves, why it
    /// proves nothing, or that it cannot be checked now (our side is broken).
    async fn verify(
        &self,
        kind: ProviderKind,
        channel: &str,
        id: &str,
        headers: &HeaderMap,
        body: &[u8],
        received_at: i64,
    ) -> Outcome {
        // The channel as read at most a second ago; if its keys do not verify this
        // notification, read it again (they may have been rotated just now).
        let mut fresh = false;
        loop {
            let looked_up = if fresh {
                self.channels.resolve_for(kind, channel).await
            } else {
                self.channels
                    .resolve_recent_for(kind, channel, CHANNEL_MAX_AGE)
                    .await
            };
            let resolved = match looked_up {
                Ok(c) => c,
                Err(e @ (ChannelError::NotFound(_) | ChannelError::WrongProvider(..))) => {
                    return Outcome::Rejected(e.to_string());
                }
                Err(e) => {
                    // Kept `received` for recovery; the provider is told to resend.
                    tracing::error!(error = %e, inbox_id = %id, "cannot load the channel for a notification");
                    return Outcome::Unprocessed;
                }
            };
            match resolved
                .provider
                .parse_notify(headers, body, received_at / 1000)
                .await
            {
                Ok(event) => return Outcome::Verified(event),
                Err(e) if fresh => return Outcome::Rejected(e.to_string()),
                Err(_) => fresh = true,
            }
        }
    }

    /// The provider's answer for what the store recorded.
    fn answer(&self, kind: ProviderKind, id: &str, applied: Applied) -> NotifyOutcome {
        match applied.verdict {
            Verdict::Refused => {
                tracing::warn!(inbox_id = %id, reason = applied.reason.as_deref().unwrap_or(""), "notification refused and flagged");
            }
            Verdict::Applied => {
                tracing::info!(inbox_id = %id, order_id = applied.changed_order.as_deref().unwrap_or(""), "notification applied");
            }
            v => tracing::debug!(inbox_id = %id, verdict = v.as_str(), "notification recorded"),
        }
        let ack = match applied.verdict {
            v if v.acknowledge() => kind.ack_success(),
            // Our fault or not, a retry of the same bytes cannot succeed: a 4xx, which
            // scanners' garbage must not turn into 5xx alerts.
            Verdict::Rejected => NotifyAck {
                status: 400,
                ..kind.ack_failure(applied.reason.as_deref().unwrap_or("rejected"))
            },
            _ => kind.ack_failure("temporarily unavailable"),
        };
        NotifyOutcome {
            ack,
            inbox_id: Some(id.to_string()),
            verdict: applied.verdict,
            changed_order: applied.changed_order,
            out_trade_no: None,
        }
    }

    async fn reject(&self, kind: ProviderKind, id: &str, reason: &str) -> NotifyOutcome {
        tracing::warn!(inbox_id = %id, provider = %kind, reason, "notification rejected");
        if let Err(e) = self.store.reject_notification(id, reason).await {
            tracing::error!(error = %e, inbox_id = %id, "cannot record a rejection");
        }
        NotifyOutcome {
            ack: kind.ack_failure(reason),
            inbox_id: Some(id.to_string()),
            verdict: Verdict::Rejected,
            changed_order: None,
            out_trade_no: None,
        }
    }

    /// Verifies and applies a notification already stored `received` (recovery), claiming
    /// its row in the same transaction, so recovery and another instance cannot both
    /// apply it.
    async fn process(
        &self,
        kind: ProviderKind,
        channel: &str,
        id: &str,
        headers: &HeaderMap,
        body: &[u8],
        received_at: i64,
    ) -> NotifyOutcome {
        let event = match self
            .verify(kind, channel, id, headers, body, received_at)
            .await
        {
            Outcome::Verified(event) => event,
            Outcome::Rejected(reason) => return self.reject(kind, id, &reason).await,
            Outcome::Unprocessed => {
                return self.answer(
                    kind,
                    id,
                    Applied {
                        verdict: Verdict::Received,
                        reason: None,
                        changed_order: None,
                    },
                );
            }
        };
        match self.store.apply_notification(id, channel, &event).await {
            Ok(Some(applied)) => self.answer(kind, id, applied),
            // Someone else (another recovery pass, another instance) applied it first.
            Ok(None) => {
                let verdict = match self.store.notification(id).await {
                    Ok(Some(e)) => e.verdict,
                    _ => Verdict::Duplicate,
                };
                self.answer(
                    kind,
                    id,
                    Applied {
                        verdict,
                        reason: None,
                        changed_order: None,
                    },
                )
            }
            Err(e) => {
                tracing::error!(error = %e, inbox_id = %id, "cannot apply a notification");
                self.answer(
                    kind,
                    id,
                    Applied {
                        verdict: Verdict::Received,
                        reason: None,
                        changed_order: None,
                    },
                )
            }
        }
    }

    /// Re-processes one stored notification that is still `received`.
    pub async fn reprocess(&self, entry: &InboxEntry) -> Option<NotifyOutcome> {
        let kind = parse_provider(&entry.provider)?;
        let headers = headers_from_json(&entry.headers);
        Some(
            self.process(
                kind,
                &entry.channel,
                &entry.id,
                &headers,
                entry.body.as_bytes(),
                entry.received_at,
            )
            .await,
        )
    }

    /// Applies notifications left `received` for longer than `older_than_ms` (their
    /// processing was interrupted). Returns how many were processed.
    pub async fn recover_inbox(&self, older_than_ms: i64) -> usize {
        let mut done = 0;
        loop {
            let batch = match self
                .store
                .unprocessed_notifications(now_ms() - older_than_ms, 100)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the notify inbox");
                    return done;
                }
            };
            if batch.is_empty() {
                return done;
            }
            let mut progressed = false;
            for entry in &batch {
                if let Some(out) = self.reprocess(entry).await
                    && out.verdict != Verdict::Received
                {
                    progressed = true;
                    done += 1;
                    tracing::info!(inbox_id = %entry.id, verdict = out.verdict.as_str(), "recovered a notification");
                }
            }
            // Rows that still cannot be processed (our side broken) wait for the next pass.
            if !progressed {
                return done;
            }
        }
    }
}

#[cfg(test)]
mod truncation_tests {
    use super::truncated;

    #[test]
    fn long_rejected_bodies_are_cut_at_a_character_boundary() {
        assert_eq!(truncated("short".into(), 10), "short");
        let cut = truncated("支付宝".repeat(10), 7);
        assert!(cut.starts_with("支付"), "{cut}");
        assert!(cut.ends_with("…[84 bytes not kept]"), "{cut}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_without_credentials() {
        let mut h = HeaderMap::new();
        h.insert("wechatpay-serial", HeaderValue::from_static("PUB_KEY_ID_1"));
        h.insert("authorization", HeaderValue::from_static("Bearer secret"));
        h.insert("cookie", HeaderValue::from_static("s=1"));
        let json = headers_json(&h);
        assert!(!json.contains("secret") && !json.contains("s=1"), "{json}");
        let back = headers_from_json(&json);
        assert_eq!(
            back.get("wechatpay-serial").map(|v| v.as_bytes()),
            Some(&b"PUB_KEY_ID_1"[..])
        );
        assert!(back.get("authorization").is_none());
    }
}
