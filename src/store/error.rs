use thiserror::Error;

/// What can go wrong in the store. Callers map these to user-facing messages; the
/// underlying sqlx error is for logs only.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("already exists")]
    Conflict,
    #[error("not found")]
    NotFound,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A sealed secret in the database does not open with this master key (wrong key, or
    /// the value was damaged or copied from another row). Says nothing about the secret.
    #[error("a stored secret cannot be opened with this master key (wrong key or damaged data)")]
    SecretUnreadable,
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    /// An operation this database or this state does not allow; the text says what to do.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The batched notification writer stopped (the process is shutting down).
    #[error("the notification writer has stopped")]
    WriterGone,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::RowNotFound => StoreError::NotFound,
            _ => StoreError::Db(e),
        }
    }
}
