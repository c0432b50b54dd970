//! Server functions: Figures for the overview page (every signed-in role).
//! Each one starts with `crate::guard::require(Capability::…)`.
//!
//! Every role holds `ViewOrders`, so that is the check. Merchants get the figures of the
//! orders they created; admins and support everyone's. Notification problems are only
//! sent to roles that may read the logs.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Days are calendar days in UTC+8, the providers' own clock.
pub const OFFSET_MINUTES: i32 = paydesk_core::timestamp::CHINA_OFFSET_MINUTES;
/// The chart's span.
pub const DAYS: i64 = 30;

/// One channel and currency in a window. Volume and `paid` count the payments made in the
/// window (the chart's days); the success rate is over the orders created in it
/// (`paydesk_core::store::stats::ChannelFigures` explains why).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelLine {
    pub channel: String,
    pub currency: String,
    pub created: i64,
    pub created_paid: i64,
    pub created_pending: i64,
    pub paid: i64,
    pub volume_minor: i64,
    pub refund_count: i64,
    pub refunded_minor: i64,
}

impl ChannelLine {
    /// Paid share of the decided (not pending) orders created in the window, in tenths of
    /// a percent.
    pub fn success_permille(&self) -> Option<i64> {
        let decided = self.created - self.created_pending;
        (decided > 0).then(|| (self.created_paid * 1000 + decided / 2) / decided)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBar {
    /// Days since 1970-01-01 in UTC+8.
    pub day: i64,
    pub channel: String,
    pub currency: String,
    pub count: i64,
    pub volume_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRefundLine {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub channel: String,
    pub amount_minor: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationLine {
    pub received_at: i64,
    pub provider: String,
    pub channel: String,
    /// `rejected` (signature or parsing failed) or `refused` (facts disagree).
    pub verdict: String,
    pub reason: Option<String>,
    pub out_trade_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewData {
    /// Day number of today (UTC+8); the chart covers `today - DAYS + 1 ..= today`.
    pub today: i64,
    /// True when the figures are the caller's own orders only.
    pub own_only: bool,
    pub today_lines: Vec<ChannelLine>,
    pub month_lines: Vec<ChannelLine>,
    pub daily: Vec<DayBar>,
    pub pending_count: i64,
    pub pending_oldest: Option<i64>,
    pub failed_refunds: Vec<FailedRefundLine>,
    /// `None` when the role may not read the logs.
    pub notification_problems: Option<Vec<NotificationLine>>,
}

#[server(prefix = "/rpc", endpoint = "overview")]
pub async fn overview() -> Result<OverviewData, AppError> {
    use paydesk_core::role::{Capability, Role};
    use paydesk_core::store::stats::{DAY_MS, StatsScope, day_start};
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let own_only = caller.user.role == Role::Merchant;
    let scope = StatsScope {
        creator: own_only.then_some(caller.user.username.as_str()),
    };
    let offset = i64::from(OFFSET_MINUTES) * 60_000;
    let today_start = day_start(paydesk_core::time::now_ms(), offset);
    let month_start = today_start - (DAYS - 1) * DAY_MS;
    let tomorrow = today_start + DAY_MS;
    let store = &caller.store;
    let err = crate::guard::internal;
    // Test (sandbox) or live figures, never both: test money is not revenue.
    let data = crate::server_fns::test_mode::ssr::scope(store, &caller.user.id)
        .await
        .map_err(err)?;
    let data = &data;
    let figures = |from| async move {
        let lines = store.channel_figures(from, tomorrow, scope).await;
        lines.map(|v| {
            v.into_iter()
                .filter(|f| data.shows(&f.channel))
                .map(ssr::channel_line)
                .collect::<Vec<_>>()
        })
    };
    let today_lines = figures(today_start).await.map_err(err)?;
    let month_lines = figures(month_start).await.map_err(err)?;
    let daily = store
        .daily_volume(month_start, tomorrow, offset, scope)
        .await
        .map_err(err)?;
    let pending = store.pending_summary(scope).await.map_err(err)?;
    let failed_refunds = store
        .failed_refunds(month_start, 10, scope)
        .await
        .map_err(err)?;
    let notification_problems = if caller.user.role.can(Capability::ReadLogs) {
        Some(
            ssr::notification_problems(store, month_start)
                .await
                .map_err(err)?,
        )
    } else {
        None
    };
    Ok(OverviewData {
        today: (today_start + offset) / DAY_MS,
        own_only,
        today_lines,
        month_lines,
        daily: daily
            .into_iter()
            .filter(|d| data.shows(&d.channel))
            .map(ssr::day_bar)
            .collect(),
        pending_count: pending.count,
        pending_oldest: pending.oldest_created_at,
        failed_refunds: failed_refunds
            .into_iter()
            .filter(|r| data.shows(&r.channel))
            .map(ssr::failed_refund)
            .collect(),
        notification_problems,
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    //! The store's figures as the overview page's rows.

    use super::{ChannelLine, DayBar, FailedRefundLine, NotificationLine};
    use paydesk_core::store::stats::{ChannelFigures, DailyVolume, FailedRefund};
    use paydesk_core::store::{InboxFilter, Store, StoreError, Verdict};

    /// How many notification problems and failed refunds the page lists.
    const SHOWN: usize = 10;

    pub fn channel_line(f: ChannelFigures) -> ChannelLine {
        ChannelLine {
            channel: f.channel,
            currency: f.currency,
            created: f.created,
            created_paid: f.created_paid,
            created_pending: f.created_pending,
            paid: f.paid,
            volume_minor: f.volume_minor,
            refund_count: f.refund_count,
            refunded_minor: f.refunded_minor,
        }
    }

    pub fn day_bar(d: DailyVolume) -> DayBar {
        DayBar {
            day: d.day,
            channel: d.channel,
            currency: d.currency,
            count: d.count,
            volume_minor: d.volume_minor,
        }
    }

    pub fn failed_refund(r: FailedRefund) -> FailedRefundLine {
        FailedRefundLine {
            out_refund_no: r.out_refund_no,
            out_trade_no: r.out_trade_no,
            channel: r.channel,
            amount_minor: r.amount_minor,
            currency: r.currency,
            failure_reason: r.failure_reason,
            created_at: r.created_at,
        }
    }

    /// The latest rejected or refused provider notifications since `since`, newest first.
    pub async fn notification_problems(
        store: &Store,
        since: i64,
    ) -> Result<Vec<NotificationLine>, StoreError> {
        let mut found = Vec::new();
        for verdict in [Verdict::Rejected, Verdict::Refused] {
            let filter = InboxFilter {
                verdict: Some(verdict),
                limit: SHOWN as i64,
                ..InboxFilter::default()
            };
            for n in store.notifications(&filter).await? {
                if n.received_at >= since {
                    found.push(NotificationLine {
                        received_at: n.received_at,
                        provider: n.provider,
                        channel: n.channel,
                        verdict: n.verdict.as_str().to_string(),
                        reason: n.reason,
                        out_trade_no: n.out_trade_no,
                    });
                }
            }
        }
        found.sort_by_key(|n| std::cmp::Reverse(n.received_at));
        found.truncate(SHOWN);
        Ok(found)
    }
}
