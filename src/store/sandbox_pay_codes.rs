//! The sandbox wallets' payment codes (`sandbox_pay_codes`): issued by the wallet page,
//! charged once. Taking a code is one conditional `UPDATE`, so two tills scanning the same
//! code at once charge it once, on one instance or two.

use super::{Store, StoreError};
use crate::provider::ProviderKind;
use crate::sandbox::CodeBehaviour;

impl Store {
    /// Stores a new payment code of `provider`'s wallet.
    pub async fn issue_sandbox_pay_code(
        &self,
        provider: ProviderKind,
        code: &str,
        behaviour: CodeBehaviour,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sandbox_pay_codes (code, provider, behaviour, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(code)
        .bind(provider.as_str())
        .bind(behaviour.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Charges a code for `out_trade_no`: its behaviour, or `None` when it is unknown,
    /// already used or issued before `not_before`.
    pub async fn take_sandbox_pay_code(
        &self,
        provider: ProviderKind,
        code: &str,
        out_trade_no: &str,
        not_before: i64,
        now: i64,
    ) -> Result<Option<CodeBehaviour>, StoreError> {
        let taken = sqlx::query(
            "UPDATE sandbox_pay_codes SET used_at = $1, out_trade_no = $2 \
             WHERE code = $3 AND provider = $4 AND used_at IS NULL AND created_at >= $5",
        )
        .bind(now)
        .bind(out_trade_no)
        .bind(code)
        .bind(provider.as_str())
        .bind(not_before)
        .execute(&self.pool)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        let behaviour: Option<String> =
            sqlx::query_scalar("SELECT behaviour FROM sandbox_pay_codes WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        Ok(behaviour.as_deref().and_then(CodeBehaviour::parse))
    }

    /// The order a code was charged for, if it was.
    pub async fn sandbox_pay_code_order(
        &self,
        provider: ProviderKind,
        code: &str,
    ) -> Result<Option<String>, StoreError> {
        let o: Option<Option<String>> = sqlx::query_scalar(
            "SELECT out_trade_no FROM sandbox_pay_codes WHERE code = $1 AND provider = $2",
        )
        .bind(code)
        .bind(provider.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(o.flatten())
    }
}
