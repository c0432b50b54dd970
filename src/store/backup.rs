//! Online backups of a SQLite database, and checking a backup before it is restored.
//!
//! `VACUUM INTO` writes a consistent copy of the database as of one read transaction,
//! while the server keeps reading and writing (WAL mode lets the writer go on). Postgres is
//! backed up with its own tools (`pg_dump`), which paydesk does not wrap.

use super::{Backend, Store, StoreError};
use std::path::{Path, PathBuf};

/// What a backup file holds, as far as a restore needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The newest migration applied in the backup.
    pub schema_version: i64,
    pub orders: i64,
    pub users: i64,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `target` (which must not
    /// exist yet). Refused on Postgres.
    pub async fn backup_to(&self, target: &Path) -> Result<BackupInfo, StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "paydesk backup works on SQLite; back up Postgres with pg_dump (see the README)",
            ));
        }
        if target.exists() {
            return Err(StoreError::Unsupported(
                "the backup file already exists; choose a new name",
            ));
        }
        let path = target.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(&path)
            .execute(&self.pool)
            .await?;
        inspect_sqlite(target).await
    }
}

/// Opens a SQLite backup read-only, checks its integrity and tells what it holds.
pub async fn inspect_sqlite(file: &Path) -> Result<BackupInfo, StoreError> {
    if !file.is_file() {
        return Err(StoreError::Unsupported("the backup file does not exist"));
    }
    // Read-only and without the server's connection settings (which switch to WAL, a
    // write): inspecting must not change the file.
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(StoreError::Connect)?;
    let backup = Store {
        pool,
        backend: Backend::Sqlite,
    };
    let result = async {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&backup.pool)
            .await?;
        if check != "ok" {
            return Err(StoreError::Unsupported(
                "the backup file is damaged (integrity check failed)",
            ));
        }
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&backup.pool)
                .await
                .map_err(|_| StoreError::Unsupported("this file is not a paydesk database"))?;
        let count = |table: &'static str| {
            let pool = backup.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
            }
        };
        Ok(BackupInfo {
            schema_version: schema_version.unwrap_or(0),
            orders: count("orders").await?,
            users: count("users").await?,
        })
    }
    .await;
    backup.close().await;
    result
}

/// The file of a `sqlite:` database URL (`sqlite://data/paydesk.db?mode=rwc`).
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/paydesk.db?mode=rwc"),
            Some(PathBuf::from("data/paydesk.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/paydesk/p.db"),
            Some(PathBuf::from("/var/lib/paydesk/p.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/test"), None);
    }
}
