//! The audit log in sentences (`pages/logs/audit.rs`): one per entry, and the names of
//! the actions for its filter.
//!
//! Each language lists every action as (code, name, sentence); a sentence names the
//! actor `{a}`, the object `{o}` and the recorded detail `{d}`. Both lists have the same
//! codes in the same order (a unit test checks); an action neither knows is told in
//! words that still name it.

mod zh;
pub use zh::ZH;

pub struct AuditText {
    pub actions: &'static [(&'static str, &'static str, &'static str)],
    /// An action no list knows: (actor, action code, object).
    pub unknown: fn(&str, &str, &str) -> String,
    /// Appended when the entry records a detail no sentence uses.
    pub detail: fn(&str) -> String,
    pub f_object: &'static str,
    pub f_show: &'static str,
    pub show_changes: &'static str,
    pub show_sign_ins: &'static str,
    pub show_all: &'static str,
    pub any_action: &'static str,
    pub col_what: &'static str,
    pub the_cli: &'static str,
    pub the_system: &'static str,
}

pub static EN: AuditText = AuditText {
    actions: &[
        ("login", "Signed in", "{a} signed in (from {d})."),
        (
            "login_failed",
            "Sign-in failed",
            "Someone failed to sign in as {o} (from {d}).",
        ),
        ("logout", "Signed out", "{a} signed out."),
        (
            "twofa_verified",
            "Two-step code accepted",
            "{a} passed the two-step sign-in.",
        ),
        (
            "twofa_failed",
            "Two-step code refused",
            "{a} entered a wrong two-step code (from {d}).",
        ),
        (
            "twofa_recovery_used",
            "Recovery code used",
            "{a} signed in with a recovery code ({d}).",
        ),
        (
            "twofa_enrol_started",
            "Two-step set-up started",
            "{a} started setting up two-step sign-in.",
        ),
        (
            "twofa_enrol_failed",
            "Two-step set-up failed",
            "{a} entered a wrong code while setting up two-step sign-in.",
        ),
        (
            "twofa_enabled",
            "Two-step turned on",
            "{a} turned on two-step sign-in.",
        ),
        (
            "twofa_reset",
            "Two-step reset",
            "{a} removed the two-step sign-in of {o}.",
        ),
        (
            "twofa_policy_changed",
            "Two-step policy changed",
            "{a} set the two-step policy to “{d}”.",
        ),
        ("user_created", "User added", "{a} added user {o} ({d})."),
        (
            "user_role_changed",
            "Role changed",
            "{a} changed the role of {o} ({d}).",
        ),
        ("user_disabled", "User disabled", "{a} disabled user {o}."),
        (
            "user_enabled",
            "User enabled",
            "{a} enabled user {o} again.",
        ),
        (
            "password_reset",
            "Password reset",
            "{a} set a new password for {o}.",
        ),
        (
            "password_changed",
            "Password changed",
            "{a} changed the password of {o}.",
        ),
        (
            "user_sessions_ended",
            "User signed out everywhere",
            "{a} signed {o} out everywhere.",
        ),
        (
            "session_ended",
            "Session ended",
            "{a} ended one of their sessions.",
        ),
        (
            "other_sessions_ended",
            "Other sessions ended",
            "{a} ended all their other sessions.",
        ),
        (
            "api_key_created",
            "API key created",
            "{a} created API key “{o}” ({d}…).",
        ),
        (
            "api_key_revoked",
            "API key revoked",
            "{a} revoked API key “{o}”.",
        ),
        (
            "api_key_refund_policy",
            "API key refund policy",
            "{a} set the refund policy of API key “{o}” to “{d}”.",
        ),
        (
            "refund_approval_policy_changed",
            "Refund approval changed",
            "{a} changed the refund approval rule {o} ({d}).",
        ),
        (
            "channel_created",
            "Channel added",
            "{a} added channel {o} ({d}).",
        ),
        (
            "channel_updated",
            "Channel changed",
            "{a} changed channel {o} ({d}).",
        ),
        (
            "channel_disabled",
            "Channel disabled",
            "{a} disabled channel {o}: no new checkouts.",
        ),
        (
            "channel_enabled",
            "Channel enabled",
            "{a} enabled channel {o}.",
        ),
        (
            "channel_tested",
            "Connection tested",
            "{a} tested the connection of {o}: {d}.",
        ),
        (
            "channel_limit_set",
            "Amount limit set",
            "{a} set an amount limit of {o} ({d}).",
        ),
        (
            "channel_limit_reset",
            "Amount limit reset",
            "{a} reset the {d} amount limit of {o}.",
        ),
        (
            "platform_certificates_refreshed",
            "Certificates downloaded",
            "{a} downloaded the platform certificates of {o} ({d}).",
        ),
        (
            "platform_certificates_refresh_failed",
            "Certificate download failed",
            "{a} could not download the platform certificates of {o} ({d}).",
        ),
        (
            "webhook_secret_added",
            "Webhook secret added",
            "{a} added a webhook secret to {o} ({d}).",
        ),
        (
            "webhook_secret_retired",
            "Webhook secret retired",
            "{a} retired a webhook secret of {o} ({d}).",
        ),
        (
            "platform_certificate_added",
            "Platform certificate added",
            "{a} added a platform certificate to {o} ({d}).",
        ),
        (
            "platform_certificate_retired",
            "Platform certificate retired",
            "{a} retired a platform certificate of {o} ({d}).",
        ),
        (
            "public_key_set",
            "Public key set",
            "{a} set the provider public key of {o} ({d}).",
        ),
        (
            "merchant_key_rotated",
            "Merchant key rotated",
            "{a} rotated the merchant key of {o} ({d}).",
        ),
        (
            "merchant_key_retired",
            "Merchant key retired",
            "{a} retired a merchant key of {o} ({d}).",
        ),
        (
            "alipay_certificate_added",
            "Alipay certificate added",
            "{a} added an Alipay certificate to {o} ({d}).",
        ),
        (
            "alipay_certificate_retired",
            "Alipay certificate retired",
            "{a} retired an Alipay certificate of {o} ({d}).",
        ),
        ("order_closed", "Order closed", "{a} closed order {o}."),
        (
            "refund_requested",
            "Refund requested",
            "{a} requested a refund on order {o} ({d}).",
        ),
        (
            "refund_awaiting_approval",
            "Refund awaiting approval",
            "{a} requested a refund on order {o} that needs approval ({d}).",
        ),
        (
            "refund_approved",
            "Refund approved",
            "{a} approved a refund on order {o} ({d}).",
        ),
        (
            "refund_rejected",
            "Refund rejected",
            "{a} rejected a refund on order {o} ({d}).",
        ),
        (
            "merchant_notification_resent",
            "Merchant notification resent",
            "{a} resent merchant notification {o}.",
        ),
    ],
    unknown: |a, action, o| format!("{a}: {action} {o}"),
    detail: |d| format!(" ({d})"),
    f_object: "Object",
    f_show: "Show",
    show_changes: "Changes (without sign-ins)",
    show_sign_ins: "Sign-ins only",
    show_all: "Everything",
    any_action: "Any action",
    col_what: "What happened",
    the_cli: "the command line",
    the_system: "paydesk",
};

impl AuditText {
    /// The entry in one sentence. Placeholders a sentence leaves out are dropped when
    /// empty ("(from )" reads badly): an empty detail removes its parentheses.
    pub fn sentence(&self, actor: &str, action: &str, object: &str, detail: &str) -> String {
        let actor = match actor {
            "cli" => self.the_cli,
            "system" => self.the_system,
            a => a,
        };
        let Some((_, _, template)) = self.actions.iter().find(|(c, _, _)| *c == action) else {
            let mut s = (self.unknown)(actor, action, object);
            if !detail.is_empty() {
                s.push_str(&(self.detail)(detail));
            }
            return s;
        };
        let mut s = template.to_string();
        if detail.trim().is_empty() {
            for hole in [
                " (from {d})",
                "（来自 {d}）",
                " ({d})",
                "（{d}）",
                " ({d}…)",
                "（{d}…）",
            ] {
                s = s.replace(hole, "");
            }
        }
        s.replace("{a}", actor)
            .replace("{o}", object)
            .replace("{d}", detail.trim())
    }

    /// The action's name for the filter; the code itself when unknown.
    pub fn name<'a>(&self, action: &'a str) -> &'a str {
        self.actions
            .iter()
            .find(|(c, _, _)| *c == action)
            .map(|(_, n, _)| *n)
            .unwrap_or(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_know_the_same_actions_and_fill_every_hole() {
        let codes = |t: &AuditText| t.actions.iter().map(|a| a.0).collect::<Vec<_>>();
        assert_eq!(codes(&EN), codes(&ZH));
        for t in [&EN, &ZH] {
            for (code, _, _) in t.actions {
                let s = t.sentence("ann", code, "obj", "det");
                assert!(!s.contains('{'), "{code}: {s}");
                let bare = t.sentence("ann", code, "obj", "");
                assert!(
                    !bare.contains("()") && !bare.contains("（）"),
                    "{code}: {bare}"
                );
            }
        }
    }

    #[test]
    fn entries_read_as_sentences() {
        assert_eq!(
            EN.sentence("admin", "user_disabled", "olga", ""),
            "admin disabled user olga."
        );
        assert_eq!(
            ZH.sentence("cli", "api_key_revoked", "pos", ""),
            "命令行 吊销了 API 密钥“pos”。"
        );
        assert_eq!(
            EN.sentence("ann", "new_thing", "x", "y"),
            "ann: new_thing x (y)"
        );
    }
}
