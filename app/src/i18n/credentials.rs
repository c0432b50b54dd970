//! Channels, keys, certificates, rotation, test connection.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct CredentialsText {
    pub title: &'static str,
}

pub static EN: CredentialsText = CredentialsText {
    title: "Credentials",
};

pub static ZH: CredentialsText = CredentialsText {
    title: "支付凭证"
};
