//! A live channel from named fields (the credentials form, the CLI) and back to its edit
//! form, per provider: every field the folder lists is read; the form shows the stored
//! settings but never a secret; editing with the secrets left empty keeps the stored ones
//! and the rotation history; a missing field is named.

use paydesk_core::channel::LiveChannel;
use paydesk_core::channel::input::FieldMap;
use paydesk_core::channel_form::FieldKind;
use paydesk_core::provider::ProviderKind;
use paydesk_core::provider::crypto::RsaSigner;

fn pem(k: &RsaSigner) -> String {
    k.to_pkcs1_pem().expect("pem").expose().to_string()
}

fn public_pem(k: &RsaSigner) -> String {
    k.verifier().to_spki_pem().expect("spki")
}

/// The form's values as named fields again (what a browser posts back), secrets empty.
fn posted(form: &[paydesk_core::channel_form::FormField]) -> FieldMap {
    let mut f = FieldMap::new();
    for field in form {
        f.set(&field.name, Some(field.value.clone()));
    }
    f
}

#[test]
fn alipay_from_fields_to_form_and_back() {
    let app_key = RsaSigner::generate().expect("key");
    let alipay_key = RsaSigner::generate().expect("key");
    let mut f = FieldMap::new();
    f.set("app_id", Some("2021000123456789".into()))
        .set("app_private_key", Some(pem(&app_key)))
        .set("alipay_public_key", Some(public_pem(&alipay_key)));
    let live =
        LiveChannel::from_input(ProviderKind::Alipay, &f, None, "http://pd").expect("alipay");
    let summary = live.validate().expect("valid");
    assert_eq!(summary.key_mode, "public key");
    let form = live.form();
    let names: Vec<&str> = form.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[0], "gateway");
    assert!(names.contains(&"app_private_key") && names.contains(&"alipay_root_cert"));
    let value = |n: &str| form.iter().find(|f| f.name == n).map(|f| f.value.clone());
    assert_eq!(
        value("gateway").as_deref(),
        Some("https://openapi.alipay.com/gateway.do")
    );
    assert_eq!(value("app_id").as_deref(), Some("2021000123456789"));
    assert_eq!(
        value("app_private_key").as_deref(),
        Some(""),
        "never a secret"
    );
    // Posted back unchanged (the secret left empty): the same channel.
    let again = LiveChannel::from_input(
        ProviderKind::Alipay,
        &posted(&form),
        Some(&live),
        "http://pd",
    )
    .expect("edit");
    assert_eq!(again.to_json().0, live.to_json().0);
    assert_eq!(again.to_json().1.expose(), live.to_json().1.expose());
    // A new channel without its secret: the field is named.
    let err = LiveChannel::from_input(ProviderKind::Alipay, &posted(&form), None, "http://pd")
        .expect_err("refused");
    assert_eq!(err.field, "app_private_key");
}

#[test]
fn wechatpay_reads_every_listed_field() {
    let key = RsaSigner::generate().expect("key");
    let platform = RsaSigner::generate().expect("key");
    let mut f = FieldMap::new();
    f.set("mchid", Some("1900000109".into()))
        .set("appid", Some("wx8888888888888888".into()))
        .set(
            "merchant_serial",
            Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into()),
        )
        .set("merchant_private_key", Some(pem(&key)))
        .set("apiv3_key", Some("0123456789abcdef0123456789abcdef".into()))
        .set(
            "public_key_id",
            Some("PUB_KEY_ID_0000000000000024101100397200000006".into()),
        )
        .set("public_key", Some(public_pem(&platform)))
        .set("download_certificates", Some("1".into()));
    let live =
        LiveChannel::from_input(ProviderKind::Wechatpay, &f, None, "http://pd").expect("wechat");
    assert_eq!(
        live.validate().expect("valid").key_mode,
        "public key + platform certificates"
    );
    let form = live.form();
    let field = |n: &str| form.iter().find(|f| f.name == n).expect(n).clone();
    assert_eq!(field("download_certificates").value, "1");
    assert_eq!(field("download_certificates").kind, FieldKind::Checkbox);
    assert_eq!(field("apiv3_key").value, "", "never a secret");
    assert_eq!(field("merchant_private_key").kind, FieldKind::SecretPem);
    let again = LiveChannel::from_input(
        ProviderKind::Wechatpay,
        &posted(&form),
        Some(&live),
        "http://pd",
    )
    .expect("edit");
    assert_eq!(again.to_json().0, live.to_json().0);
    let mut f2 = FieldMap::new();
    f2.set("appid", Some("wx1".into()));
    let err = LiveChannel::from_input(ProviderKind::Wechatpay, &f2, Some(&live), "http://pd")
        .expect_err("refused");
    assert_eq!(err.field, "mchid");
}

#[test]
fn stripe_defaults_and_providers_without_live_channels() {
    let mut f = FieldMap::new();
    f.set("secret_key", Some("sk_test_123".into()))
        .set("webhook_secret", Some("whsec_abc".into()));
    let live = LiveChannel::from_input(ProviderKind::Stripe, &f, None, "https://pay.example/")
        .expect("stripe");
    live.validate().expect("valid");
    let form = live.form();
    let value = |n: &str| form.iter().find(|f| f.name == n).map(|f| f.value.clone());
    assert_eq!(value("gateway").as_deref(), Some("https://api.stripe.com"));
    assert_eq!(
        value("success_url").as_deref(),
        Some("https://pay.example/")
    );
    assert_eq!(value("secret_key").as_deref(), Some(""));
    assert!(LiveChannel::fields_of(ProviderKind::WechatpayV2).is_none());
    assert!(LiveChannel::blank_form(ProviderKind::WechatpayV2, "http://pd").is_none());
    let blank = LiveChannel::blank_form(ProviderKind::Stripe, "http://pd").expect("blank");
    assert_eq!(blank[0].name, "gateway");
    assert!(LiveChannel::from_input(ProviderKind::WechatpayV2, &f, None, "http://pd").is_err());
    // Debug of the field map names fields, never values.
    assert!(!format!("{f:?}").contains("sk_test_123"));
}
