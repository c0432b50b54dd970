pub mod format;
pub mod layout;
