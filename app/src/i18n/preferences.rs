//! The switches in the page header: language and colour theme.
//!
//! Every language fills the same struct: a missing translation does not compile.

use crate::preferences::Theme;

pub struct PreferencesText {
    /// Accessible name of the language switch.
    pub language: &'static str,
    /// Accessible name of the theme switch.
    pub theme: &'static str,
    pub theme_light: &'static str,
    pub theme_dark: &'static str,
    pub theme_system: &'static str,
}

pub static EN: PreferencesText = PreferencesText {
    language: "Language",
    theme: "Colour theme",
    theme_light: "Light",
    theme_dark: "Dark",
    theme_system: "System",
};

pub static ZH: PreferencesText = PreferencesText {
    language: "语言",
    theme: "颜色主题",
    theme_light: "浅色",
    theme_dark: "深色",
    theme_system: "跟随系统",
};

impl PreferencesText {
    pub fn theme_name(&self, theme: Theme) -> &'static str {
        match theme {
            Theme::Light => self.theme_light,
            Theme::Dark => self.theme_dark,
            Theme::System => self.theme_system,
        }
    }
}
