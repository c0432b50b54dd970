//! Per-user dashboard choices: saved order searches (a name and the orders page's query
//! string; saving a name again replaces its query; at most [`MAX_VIEWS`]) and the
//! test-mode switch (`paydesk_core::test_mode`).

use super::{Store, StoreError, new_id};
use sqlx::Row;

/// Views one user may keep.
pub const MAX_VIEWS: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    /// `q=…&status=…` as the orders page's GET form sends it.
    pub query: String,
}

/// What saving did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// The user has [`MAX_VIEWS`] already (and this name is not one of them).
    Full,
}

impl Store {
    /// The user's views, by name.
    pub async fn saved_views(&self, user_id: &str) -> Result<Vec<SavedView>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SavedView {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    query: r.try_get("query")?,
                })
            })
            .collect()
    }

    /// Saves (or replaces) the view `name` of the user. The count is checked in the insert
    /// itself (on Postgres two saves at the same instant could pass it by one: a limit
    /// against clutter, not a security bound).
    pub async fn save_view(
        &self,
        user_id: &str,
        name: &str,
        query: &str,
    ) -> Result<SaveOutcome, StoreError> {
        let replaced =
            sqlx::query("UPDATE saved_views SET query = $1 WHERE user_id = $2 AND name = $3")
                .bind(query)
                .bind(user_id)
                .bind(name)
                .execute(&self.pool)
                .await?;
        if replaced.rows_affected() > 0 {
            return Ok(SaveOutcome::Saved);
        }
        let inserted = sqlx::query(
            "INSERT INTO saved_views (id, user_id, name, query, created_at) \
             SELECT $1, $2, $3, $4, CAST($5 AS BIGINT) \
             WHERE (SELECT COUNT(*) FROM saved_views WHERE user_id = $2) < CAST($6 AS BIGINT) \
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(name)
        .bind(query)
        .bind(crate::time::now_ms())
        .bind(MAX_VIEWS)
        .execute(&self.pool)
        .await?;
        Ok(if inserted.rows_affected() > 0 {
            SaveOutcome::Saved
        } else {
            SaveOutcome::Full
        })
    }

    /// Deletes the user's view `id`; false when the user has no such view.
    pub async fn delete_view(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM saved_views WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// The user's test-mode choice (None: not chosen).
    pub async fn test_mode_choice(&self, user_id: &str) -> Result<Option<bool>, StoreError> {
        let row = sqlx::query("SELECT test_mode FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<i64>, _>("test_mode")?.map(|v| v != 0),
            None => None,
        })
    }

    pub async fn set_test_mode(&self, user_id: &str, on: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET test_mode = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What the overview's first-steps checklist ticks off, read from the real state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FirstSteps {
    /// A sandbox checkout was paid.
    pub sandbox_paid: bool,
    /// There is a user besides the first admin.
    pub second_user: bool,
    pub live_channel: bool,
    /// The user dismissed the checklist.
    pub dismissed: bool,
}

impl Store {
    pub async fn first_steps(&self, user_id: &str) -> Result<FirstSteps, StoreError> {
        let one = |sql: &'static str| async move {
            Ok::<bool, StoreError>(sqlx::query(sql).fetch_optional(&self.pool).await?.is_some())
        };
        let dismissed = sqlx::query("SELECT first_steps_dismissed_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>("first_steps_dismissed_at"))
            .transpose()?
            .flatten()
            .is_some();
        Ok(FirstSteps {
            sandbox_paid: one(
                "SELECT 1 FROM orders o JOIN channels c ON c.name = o.channel \
                 WHERE c.mode = 'sandbox' AND o.paid_at IS NOT NULL LIMIT 1",
            )
            .await?,
            second_user: one("SELECT 1 FROM users LIMIT 1 OFFSET 1").await?,
            live_channel: one("SELECT 1 FROM channels WHERE mode = 'live' LIMIT 1").await?,
            dismissed,
        })
    }

    pub async fn dismiss_first_steps(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET first_steps_dismissed_at = $1 WHERE id = $2")
            .bind(crate::time::now_ms())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
