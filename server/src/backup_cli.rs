//! `paydesk backup <file>` and `paydesk restore <file>` for SQLite deployments.
//!
//! Backup is online: it reads one consistent snapshot while the server keeps serving.
//! Restore replaces the database file, so the server must be stopped first; the database
//! it replaces is kept next to it (`paydesk.db.before-restore-<time>`), never deleted.

use crate::cli::{CliError, failed};
use crate::config::Config;
use paydesk_core::store::backup::{inspect_sqlite, sqlite_file};
use paydesk_core::store::{Backend, Store};
use std::path::Path;

pub async fn backup(config: &Config, target: &Path) -> Result<(), CliError> {
    if Backend::from_url(&config.database_url).map_err(failed)? != Backend::Sqlite {
        return Err(failed(
            "paydesk backup works on SQLite; for Postgres use pg_dump (see the README, \"Backups\")",
        ));
    }
    let store = Store::connect(&config.database_url).await.map_err(failed)?;
    let info = store.backup_to(target).await.map_err(failed);
    store.close().await;
    let info = info?;
    println!(
        "backup written to {} (schema {}, {} orders, {} users)",
        target.display(),
        info.schema_version,
        info.orders,
        info.users
    );
    Ok(())
}

pub async fn restore(config: &Config, source: &Path) -> Result<(), CliError> {
    let Some(db) = sqlite_file(&config.database_url) else {
        return Err(failed(
            "paydesk restore works on SQLite; for Postgres use pg_restore or psql (see the README, \"Backups\")",
        ));
    };
    let info = inspect_sqlite(source).await.map_err(failed)?;
    if info.schema_version > Store::latest_schema_version() {
        return Err(failed(
            "this backup was written by a newer paydesk; restore it with that version",
        ));
    }
    let copy = db.with_extension("db.restoring");
    std::fs::copy(source, &copy).map_err(|e| failed(format!("cannot copy the backup: {e}")))?;
    std::fs::File::open(&copy)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(format!("cannot flush the copy: {e}")))?;
    if db.exists() {
        let stamp = paydesk_core::time::now_ms() / 1000;
        let kept = db.with_extension(format!("db.before-restore-{stamp}"));
        std::fs::rename(&db, &kept)
            .map_err(|e| failed(format!("cannot move the current database aside: {e}")))?;
        // The write-ahead log belongs to the database just moved aside; left here, SQLite
        // would replay it into the restored file.
        for suffix in ["-wal", "-shm"] {
            let side = format!("{}{suffix}", db.display());
            let kept_side = format!("{}{suffix}", kept.display());
            if Path::new(&side).exists() {
                std::fs::rename(&side, &kept_side)
                    .map_err(|e| failed(format!("cannot move {side} aside: {e}")))?;
            }
        }
        println!("the previous database is kept as {}", kept.display());
    }
    std::fs::rename(&copy, &db)
        .map_err(|e| failed(format!("cannot put the backup in place: {e}")))?;
    // Bring the restored database up to this build's schema.
    crate::startup::open_store(config).await.map_err(failed)?;
    println!(
        "restored {} ({} orders, {} users); start paydesk again",
        source.display(),
        info.orders,
        info.users
    );
    Ok(())
}
