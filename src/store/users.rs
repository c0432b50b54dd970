use super::{Store, StoreError, dialect, new_id};
use crate::role::Role;
use crate::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

/// A dashboard user. `password_hash` is an argon2id PHC string; it never leaves the
/// server and is kept out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

const COLUMNS: &str = "id, username, role, disabled_at, created_at, password_hash";

fn from_row(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: role
            .parse()
            .map_err(|e: crate::role::UnknownRole| StoreError::Corrupt(e.to_string()))?,
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        created_at: row.try_get("created_at")?,
        password_hash: row.try_get("password_hash")?,
    })
}

impl Store {
    /// Creates a user; `StoreError::Conflict` if the name is taken.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User, StoreError> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(new.username)
        .bind(new.password_hash)
        .bind(new.role.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.user_by_id(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.user_where("id", id).await
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.user_where("username", username).await
    }

    /// `column` is one of our own unique columns, never user input.
    async fn user_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {column} = $1");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Replaces a user's password hash; `NotFound` if there is no such user.
    pub async fn set_password_hash(&self, username: &str, hash: &str) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE username = $3")
                .bind(hash)
                .bind(now_ms())
                .bind(username)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let done =
            sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE username = $3")
                .bind(disabled.then_some(now))
                .bind(now)
                .bind(username)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The outcome of an admin's change to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserUpdate {
    Updated,
    NoSuchUser,
    /// Refused: the change would leave no active admin.
    LastAdmin,
}

/// The condition that keeps at least one active admin: the row being changed is not an
/// active admin, or another active admin exists. `$3` is the username.
const KEEPS_AN_ADMIN: &str = "(role <> 'admin' OR disabled_at IS NOT NULL OR \
     (SELECT COUNT(*) FROM users o WHERE o.role = 'admin' AND o.disabled_at IS NULL \
      AND o.username <> $3) > 0)";

impl Store {
    /// Gives `username` a new role; refuses to demote the last active admin.
    pub async fn change_user_role(
        &self,
        username: &str,
        role: Role,
    ) -> Result<UserUpdate, StoreError> {
        let mut tx = self.admin_change().await?;
        let guard = if role == Role::Admin {
            "1 = 1"
        } else {
            KEEPS_AN_ADMIN
        };
        let sql =
            format!("UPDATE users SET role = $1, updated_at = $2 WHERE username = $3 AND {guard}");
        let done = sqlx::query(&sql)
            .bind(role.as_str())
            .bind(now_ms())
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let outcome = self
            .outcome(&mut tx, username, done.rows_affected())
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Disables or enables `username`; refuses to disable the last active admin.
    /// Disabling ends the user's sessions at their next request (see `auth::Backend`).
    pub async fn change_user_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<UserUpdate, StoreError> {
        let mut tx = self.admin_change().await?;
        let now = now_ms();
        let guard = if disabled { KEEPS_AN_ADMIN } else { "1 = 1" };
        // Re-enabling keeps the original `disabled_at` semantics: NULL means active.
        let sql = format!(
            "UPDATE users SET disabled_at = $1, updated_at = $2 WHERE username = $3 AND {guard}"
        );
        let done = sqlx::query(&sql)
            .bind(disabled.then_some(now))
            .bind(now)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        let outcome = self
            .outcome(&mut tx, username, done.rows_affected())
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// A transaction for a change that must keep an active admin. On Postgres it first
    /// locks the admin rows, so two admins demoting each other at once are serialised
    /// (the second then sees the first's change). SQLite runs one writer at a time and the
    /// guarded UPDATE is a single statement, so it needs no lock.
    async fn admin_change(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if dialect::has_row_locks(self.backend) {
            sqlx::query("SELECT id FROM users WHERE role = 'admin' FOR UPDATE")
                .fetch_all(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    async fn outcome(
        &self,
        tx: &mut Transaction<'static, Any>,
        username: &str,
        affected: u64,
    ) -> Result<UserUpdate, StoreError> {
        if affected > 0 {
            return Ok(UserUpdate::Updated);
        }
        let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        Ok(if exists {
            UserUpdate::LastAdmin
        } else {
            UserUpdate::NoSuchUser
        })
    }
}
