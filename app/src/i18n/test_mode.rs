//! The test-mode switch and its banner.

pub struct TestModeText {
    /// The banner while test mode is on.
    pub banner: &'static str,
    pub show_live: &'static str,
    pub show_test: &'static str,
    /// The switch's label in the top bar (live mode).
    pub live_note: &'static str,
}

/// This catalog in `lang`. Kept out of [`super::Messages`] on purpose: the islands
/// reach `Messages`, so everything in it ships in the wasm; these texts are server-rendered
/// only.
pub fn of(lang: super::Lang) -> &'static TestModeText {
    match lang {
        super::Lang::En => &EN,
        super::Lang::Zh => &ZH,
    }
}

pub static EN: TestModeText = TestModeText {
    banner: "Test mode: you are seeing sandbox payments only. They are not revenue; live payments are hidden.",
    show_live: "Show live data",
    show_test: "Show test data",
    live_note: "Live data",
};

pub static ZH: TestModeText = TestModeText {
    banner: "测试模式：当前只显示沙箱支付。这些不是真实收入，真实（生产）支付已隐藏。",
    show_live: "查看真实数据",
    show_test: "查看测试数据",
    live_note: "真实数据",
};
