//! The first admin. A fresh install has no users; paydesk creates `admin` with a random
//! password and hands it back exactly once so the caller can print it to the console.

use super::password::hash_password;
use crate::role::Role;
use crate::store::{NewUser, Store, StoreError};
use rand::Rng;
use rand::distributions::Alphanumeric;

pub const BOOTSTRAP_ADMIN: &str = "admin";

/// A random 20-character alphanumeric password (~119 bits).
pub fn generate_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// Creates the bootstrap admin if there are no users yet. Returns the password only to
/// the one caller that created it (several instances may race; the loser gets `None`).
pub async fn ensure_bootstrap_admin(store: &Store) -> Result<Option<String>, StoreError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    let hash = hash_password(password.clone())
        .await
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let new = NewUser {
        username: BOOTSTRAP_ADMIN,
        password_hash: &hash,
        role: Role::Admin,
    };
    match store.create_user(new).await {
        Ok(_) => {
            store
                .audit("system", "user_created", BOOTSTRAP_ADMIN, "bootstrap admin")
                .await?;
            Ok(Some(password))
        }
        Err(StoreError::Conflict) => Ok(None),
        Err(e) => Err(e),
    }
}
