pub mod confirm;
pub mod format;
pub mod layout;
