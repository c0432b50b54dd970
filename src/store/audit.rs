use super::{Store, StoreError, new_id};
use crate::time::now_ms;
use sqlx::Row;

/// One line of the audit log: who (`actor`) did what (`action`) to what (`target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Store {
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(now_ms())
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Entries matching `f`, newest first; pass the last entry's `cursor()` as
    /// `f.before` for the next (older) page.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        // Keyset paging on (at, id): ids break ties between entries of the same
        // millisecond, so no entry is skipped or repeated across pages.
        let (before_at, before_id) = super::keyset(&f.before);
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM audit_log \
             WHERE ($1 IS NULL OR actor = $1) \
               AND ($2 IS NULL OR action = $2) \
               AND ($3 IS NULL OR at < $3 OR (at = $3 AND id < $4)) \
               AND ($6 IS NULL OR target = $6) \
               AND ($7 = 0 \
                 OR ($7 = 1 AND action NOT IN ('login', 'login_failed', 'logout', 'twofa_verified', 'twofa_failed', 'twofa_recovery_used')) \
                 OR ($7 = 2 AND action IN ('login', 'login_failed', 'logout', 'twofa_verified', 'twofa_failed', 'twofa_recovery_used'))) \
             ORDER BY at DESC, id DESC LIMIT $5",
        )
        .bind(f.actor.as_deref())
        .bind(f.action.as_deref())
        .bind(before_at)
        .bind(before_id)
        .bind(f.limit.clamp(1, 500))
        .bind(f.target.as_deref())
        .bind(match f.sign_ins {
            SignIns::Included => 0_i64,
            SignIns::Excluded => 1,
            SignIns::Only => 2,
        })
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// The newest `limit` entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// The actions of signing in and out (the audit log's "Sign-ins" filter). The same list
/// is spelled out in [`Store::audit_entries`]' SQL.
pub const SIGN_IN_ACTIONS: [&str; 6] = [
    "login",
    "login_failed",
    "logout",
    "twofa_verified",
    "twofa_failed",
    "twofa_recovery_used",
];

/// Sign-ins in an audit listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignIns {
    #[default]
    Included,
    Excluded,
    Only,
}

/// Which audit entries to list. Empty filter = the newest of everyone.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// The object acted on (user, key, channel, order …).
    pub target: Option<String>,
    /// Whether sign-ins ([`SIGN_IN_ACTIONS`]) are listed with the rest, left out, or alone.
    pub sign_ins: SignIns,
    /// Only entries older than this (`at`, `id`) position: [`AuditEntry::cursor`].
    pub before: Option<(i64, String)>,
    /// Clamped to 1..=500.
    pub limit: i64,
}

impl AuditEntry {
    /// This entry's position, for [`AuditFilter::before`].
    pub fn cursor(&self) -> (i64, String) {
        (self.at, self.id.clone())
    }
}
