//! Writes the seed corpora (`fuzz/seeds/<target>/`): small, real-looking inputs, signed and
//! encrypted with the repository's own test keys (tests/fixtures/vectors.json) for
//! [`NOW`], so every verification path starts from an input that passes it, then checks
//! that the seeds meant to verify do. Built with the targets; run by hand
//! (`$CARGO_TARGET_DIR/afl/release/make_seeds`); the output is committed. Signatures are
//! deterministic (PKCS#1 v1.5), so re-running rewrites the same files.

use std::fs;
use std::path::Path;

use paydesk_core::provider::alipay::sign::{SignScope, string_to_sign};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::form;
use paydesk_core::provider::stripe::webhook;
use paydesk_core::provider::wechatpay::resource;
use paydesk_core::provider::wechatpay::verify::verify_message;
use paydesk_fuzz::fixtures::{
    self, ALIPAY_APP_ID, APIV3_KEY, CERT_SERIAL, NOW, PUB_KEY_ID, STRIPE_OLD_SECRET, STRIPE_SECRET,
    WECHAT_APPID, WECHAT_MCHID, vector,
};
use paydesk_fuzz::input::render_headers_and_body;
use serde_json::json;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    fs::create_dir_all(&dir).expect("seed dir");
    fs::write(dir.join(name), bytes).expect("write seed");
}

// ------------------------------------------------------------------ Alipay

fn alipay_form(signer: &RsaSigner, params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sign = signer.sign_b64(string_to_sign(&pairs, SignScope::Notify).as_bytes());
    pairs.push(("sign".into(), sign));
    pairs.push(("sign_type".into(), "RSA2".into()));
    form::encode(&pairs)
}

fn alipay_notify() {
    let t = "alipay_notify";
    write(
        t,
        "vector_paid",
        vector("alipay_notify", "form_body").as_bytes(),
    );
    let key = fixtures::alipay_signer();
    let base = [
        ("app_id", ALIPAY_APP_ID),
        ("charset", "utf-8"),
        ("notify_type", "trade_status_sync"),
        ("notify_time", "2023-11-15 06:13:20"),
        ("out_trade_no", "PD20231115AB12"),
        ("trade_no", "2023111522001489861008118997"),
        ("subject", "会员+1 咖啡"),
        ("version", "1.0"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        alipay_form(&key, &v)
    };
    let seeds = [
        (
            "paid",
            with(&[("trade_status", "TRADE_SUCCESS"), ("total_amount", "12.34")]),
        ),
        (
            "finished",
            with(&[("trade_status", "TRADE_FINISHED"), ("total_amount", "0.01")]),
        ),
        ("closed", with(&[("trade_status", "TRADE_CLOSED")])),
        ("waiting", with(&[("trade_status", "WAIT_BUYER_PAY")])),
        (
            "refund",
            with(&[
                ("trade_status", "TRADE_SUCCESS"),
                ("out_biz_no", "RF20231115CD34"),
                ("refund_fee", "5.00"),
                ("total_amount", "12.34"),
            ]),
        ),
        (
            "empty_value",
            with(&[
                ("trade_status", "TRADE_SUCCESS"),
                ("total_amount", "1"),
                ("body", ""),
            ]),
        ),
    ];
    for (name, body) in seeds {
        write(t, name, body.as_bytes());
    }
    write(
        t,
        "gbk",
        b"charset=gbk&sign_type=RSA2&sign=abc&app_id=2021000000000000",
    );
    write(t, "rsa1", b"charset=utf-8&sign_type=RSA&sign=abc");
    write(t, "duplicate", b"a=1&a=2&sign_type=RSA2&sign=abc");
    write(t, "bad_escape", b"subject=%E4%BC&sign_type=RSA2&sign=%zz");
}

fn alipay_response() {
    let t = "alipay_response";
    let raw = vector("alipay_precreate_response", "raw");
    write(
        t,
        "vector_precreate",
        format!("alipay.trade.precreate\n{raw}").as_bytes(),
    );
    let key = fixtures::alipay_signer();
    let payload = r#"{"code":"10000","msg":"Success","trade_no":"2023111522001489861008118997","out_trade_no":"PD20231115AB12","trade_status":"TRADE_SUCCESS","total_amount":"12.34","buyer_logon_id":"hai***@vip.qq.com","note":"\u4e2d\/\"}{"}"#;
    let sign = key.sign_b64(payload.as_bytes());
    write(
        t,
        "query_signed",
        format!(
            "alipay.trade.query\n{{\"alipay_trade_query_response\":{payload},\"sign\":\"{sign}\"}}"
        )
        .as_bytes(),
    );
    write(
        t,
        "cert_sn",
        format!("alipay.trade.query\n {{ \"alipay_trade_query_response\" : {payload} , \"alipay_cert_sn\":\"abe4af5e686f52544fcd9d5592fce1f3\", \"sign\":\"{sign}\" }}\n").as_bytes(),
    );
    write(
        t,
        "error_unsigned",
        br#"alipay.trade.close
{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"bad sign"}}"#,
    );
    write(
        t,
        "not_exist",
        br#"alipay.trade.query
{"alipay_trade_query_response":{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"no such trade"},"sign":"AAAA"}"#,
    );
    write(
        t,
        "nested",
        br#"alipay.trade.refund
{"alipay_trade_refund_response":{"code":"10000","list":[{"a":[1,2,{"b":null}]},true,false,-1.5e3],"s":"\\\""},"sign":"x","n":12.5}"#,
    );
}

// ------------------------------------------------------------------ WeChat Pay

fn wechat_body(event_type: &str, resource_json: &serde_json::Value) -> Vec<u8> {
    let res = resource::encrypt(
        APIV3_KEY.as_bytes(),
        "Kj7QIyUiYx1q",
        "transaction",
        resource_json.to_string().as_bytes(),
        Some("transaction"),
    )
    .expect("encrypt");
    json!({
        "id": "EV-2023111506132000001",
        "create_time": "2023-11-15T06:13:20+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": res,
    })
    .to_string()
    .into_bytes()
}

fn paid_resource() -> serde_json::Value {
    json!({
        "mchid": WECHAT_MCHID, "appid": WECHAT_APPID,
        "out_trade_no": "PD20231115AB12", "transaction_id": "4200001234202311150000000001",
        "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "success_time": "2023-11-15T06:13:19+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 1234, "payer_total": 1234, "currency": "CNY", "payer_currency": "CNY"}
    })
}

fn refund_resource() -> serde_json::Value {
    json!({
        "mchid": WECHAT_MCHID, "out_trade_no": "PD20231115AB12",
        "transaction_id": "4200001234202311150000000001",
        "out_refund_no": "RF20231115CD34", "refund_id": "50000000382019052709732678859",
        "refund_status": "SUCCESS",
        "amount": {"total": 1234, "refund": 500, "payer_total": 1234, "payer_refund": 500}
    })
}

fn wechat_signed(signer: &RsaSigner, serial: &str, ts: i64, body: &[u8]) -> Vec<u8> {
    let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
    let sig = signer.sign_b64(&verify_message(&ts.to_string(), nonce, body));
    render_headers_and_body(
        &[
            ("Wechatpay-Timestamp", ts.to_string()),
            ("Wechatpay-Nonce", nonce.to_string()),
            ("Wechatpay-Signature", sig),
            ("Wechatpay-Serial", serial.to_string()),
            (
                "Wechatpay-Signature-Type",
                "WECHATPAY2-SHA256-RSA2048".into(),
            ),
        ],
        body,
    )
}

fn wechatpay_notify() {
    let t = "wechatpay_notify";
    let cert_key = fixtures::wechat_signer();
    let pub_key = fixtures::alipay_signer();
    let paid = wechat_body("TRANSACTION.SUCCESS", &paid_resource());
    let refund = wechat_body("REFUND.SUCCESS", &refund_resource());
    write(
        t,
        "paid_certificate",
        &wechat_signed(&cert_key, CERT_SERIAL, NOW, &paid),
    );
    write(
        t,
        "paid_public_key",
        &wechat_signed(&pub_key, PUB_KEY_ID, NOW - 30, &paid),
    );
    write(
        t,
        "refund_certificate",
        &wechat_signed(&cert_key, &CERT_SERIAL.to_lowercase(), NOW + 10, &refund),
    );
    write(
        t,
        "stale",
        &wechat_signed(&cert_key, CERT_SERIAL, NOW - 301, &paid),
    );
    write(
        t,
        "unknown_serial",
        &wechat_signed(&cert_key, "5DEA10EF55877E3C", NOW, &paid),
    );
    // Regression: this timestamp overflowed the freshness check (FUZZING.md, findings).
    write(
        t,
        "timestamp_min",
        &wechat_signed(&cert_key, CERT_SERIAL, i64::MIN, &paid),
    );
    let probe = render_headers_and_body(
        &[
            ("Wechatpay-Timestamp", NOW.to_string()),
            ("Wechatpay-Nonce", "n".into()),
            ("Wechatpay-Signature", "WECHATPAY/SIGNTEST/abc".into()),
            ("Wechatpay-Serial", CERT_SERIAL.into()),
        ],
        &paid,
    );
    write(t, "signtest_probe", &probe);
    // The published vector (its timestamp is years before NOW: refused as stale).
    let v: serde_json::Value = serde_json::from_str(fixtures::VECTORS).expect("vectors");
    let e = &v["wechatpay_notify_signature"];
    let headers: Vec<(&str, String)> = [
        "Wechatpay-Timestamp",
        "Wechatpay-Nonce",
        "Wechatpay-Serial",
        "Wechatpay-Signature",
        "Wechatpay-Signature-Type",
    ]
    .iter()
    .map(|k| (*k, e["headers"][k].as_str().unwrap_or_default().to_string()))
    .collect();
    let body = e["body"].as_str().unwrap_or_default().as_bytes();
    write(t, "vector", &render_headers_and_body(&headers, body));
}

fn wechatpay_resource() {
    let t = "wechatpay_resource";
    let structured = |event: &str, r: &serde_json::Value| {
        format!("{event}\nKj7QIyUiYx1q\ntransaction\n{r}").into_bytes()
    };
    write(
        t,
        "paid",
        &structured("TRANSACTION.SUCCESS", &paid_resource()),
    );
    write(
        t,
        "refund",
        &structured("REFUND.SUCCESS", &refund_resource()),
    );
    let mut abnormal = refund_resource();
    abnormal["refund_status"] = json!("ABNORMAL");
    write(
        t,
        "refund_abnormal",
        &structured("REFUND.ABNORMAL", &abnormal),
    );
    let mut usd = paid_resource();
    usd["amount"]["currency"] = json!("USD");
    usd["trade_state"] = json!("NOTPAY");
    write(t, "not_paid_usd", &structured("TRANSACTION.SUCCESS", &usd));
    write(
        t,
        "envelope",
        &wechat_body("TRANSACTION.SUCCESS", &paid_resource()),
    );
    let v: serde_json::Value = serde_json::from_str(fixtures::VECTORS).expect("vectors");
    let body = v["wechatpay_notify_signature"]["body"]
        .as_str()
        .unwrap_or_default();
    write(t, "vector_envelope", body.as_bytes());
}

// ------------------------------------------------------------------ Stripe

fn stripe_webhook() {
    let t = "stripe_webhook";
    let header = vector("stripe_webhook", "header");
    let payload = vector("stripe_webhook", "payload");
    write(t, "vector", format!("{header}\n{payload}").as_bytes());
    let completed = json!({
        "id": "evt_1OCxyz", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_test_a1b2", "object": "checkout.session", "payment_status": "paid",
            "client_reference_id": "PD20231115AB12", "payment_intent": "pi_3OCxyz",
            "amount_total": 1234, "currency": "usd"
        }}
    })
    .to_string();
    let refund = json!({
        "id": "evt_1OCrf", "object": "event", "type": "refund.updated",
        "data": {"object": {
            "id": "re_3OCxyz", "object": "refund", "status": "succeeded", "amount": 500,
            "currency": "usd",
            "metadata": {"out_trade_no": "PD20231115AB12", "out_refund_no": "RF20231115CD34"}
        }}
    })
    .to_string();
    let expired = json!({
        "id": "evt_1OCex", "type": "checkout.session.expired",
        "data": {"object": {"client_reference_id": "PD20231115AB12"}}
    })
    .to_string();
    let signed = |secret: &str, body: &str| webhook::sign_header(secret, NOW, body.as_bytes());
    write(
        t,
        "completed",
        format!("{}\n{completed}", signed(STRIPE_SECRET, &completed)).as_bytes(),
    );
    write(
        t,
        "refund_old_secret",
        format!("{}\n{refund}", signed(STRIPE_OLD_SECRET, &refund)).as_bytes(),
    );
    let two = format!(
        "t={NOW}, v1=00ff,v0=abc ,v1={}",
        signed(STRIPE_SECRET, &expired)
            .rsplit_once("v1=")
            .map_or("", |(_, v)| v)
    );
    write(t, "expired_two_v1", format!("{two}\n{expired}").as_bytes());
    write(t, "no_v1", format!("t={NOW}\n{completed}").as_bytes());
    // Regression: this timestamp overflowed the freshness check (FUZZING.md, findings).
    write(
        t,
        "timestamp_min",
        format!("t={},v1=00\n{completed}", i64::MIN).as_bytes(),
    );
}

// ------------------------------------------------------------------ money, filters, CSV

fn money() {
    let t = "money";
    // First byte picks the currency: 0 CNY, 1 USD, 6 JPY, 8 KWD (Currency::ALL order).
    let seeds: [(&str, u8, &str); 9] = [
        ("cny_fen", 0, "0.01"),
        ("cny", 0, "1234.50"),
        ("cny_max", 0, "92233720368547758.07"),
        ("usd_whole", 1, "7"),
        ("jpy", 6, "100"),
        ("kwd", 8, "1.234"),
        ("negative", 0, "-0.01"),
        ("exponent", 1, "1e3"),
        ("code", 0, "usd"),
    ];
    for (name, c, s) in seeds {
        let mut v = vec![c];
        v.extend_from_slice(s.as_bytes());
        write(t, name, &v);
    }
}

fn order_filter() {
    let t = "order_filter";
    let seeds = [
        ("all", ""),
        ("number", "q=ORD-A"),
        ("trade_no", "q=TRADE-ORD-E"),
        (
            "status_amount",
            "status=paid&currency=cny&min=0.01&max=100.00",
        ),
        ("exact_amount", "min=10&max=10"),
        ("dates", "from=2026-11-01&to=2026-11-02&sort=oldest"),
        ("cursor", "sort=oldest&after=1793491202000.0"),
        ("creator", "creator=noah&channel=stripe-sandbox"),
        ("encoded", "q=%E6%B5%8B%E8%AF%95+1&currency=JPY&min=12"),
        ("bad", "status=paid%00&from=2026-02-30&min=1.001"),
    ];
    for (name, q) in seeds {
        write(t, name, q.as_bytes());
    }
}

fn export_csv() {
    let t = "export_csv";
    let order = |texts: [&str; 5], amount: i64, flags: u8, currency: u8| {
        let mut v = Vec::new();
        for s in texts {
            v.extend_from_slice(s.as_bytes());
            v.push(0xFF);
        }
        for n in [amount, 500, 1_793_491_200_123, 1_793_491_260_000, 0] {
            v.extend_from_slice(&n.to_le_bytes());
        }
        v.extend_from_slice(&[flags, currency]);
        v
    };
    write(
        t,
        "plain",
        &order(
            [
                "PD20231115AB12",
                "2023111522001489861008118997",
                "alipay-sandbox",
                "咖啡 × 2",
                "mia",
            ],
            1234,
            0x31,
            0,
        ),
    );
    write(
        t,
        "quotes",
        &order(
            [
                "PD-1",
                "",
                "stripe-sandbox",
                "say \"hi\", twice\r\nok",
                "shop-api",
            ],
            5,
            0x02,
            1,
        ),
    );
    write(
        t,
        "formula",
        &order(
            ["=HYPERLINK(\"x\")", "+1", "@SUM(A1)", "-2", "\tcmd"],
            0,
            0x74,
            8,
        ),
    );
}

// ------------------------------------------------------------------ self-check

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target)
        .join(name);
    fs::read(path).expect("read seed")
}

/// The seeds meant to pass verification do, with the same clients the targets use: a
/// corpus whose "valid" inputs were refused would leave the code behind the signature
/// check unexplored.
fn check_valid_seeds() {
    use paydesk_core::provider::alipay::client::verify_response;
    use paydesk_core::provider::{HeaderMap, Provider};
    use paydesk_fuzz::input::{headers_and_body, split_line};
    let rt = fixtures::runtime();
    let alipay = fixtures::alipay_client();
    for name in [
        "vector_paid",
        "paid",
        "finished",
        "closed",
        "waiting",
        "refund",
        "empty_value",
    ] {
        let body = seed("alipay_notify", name);
        let r = rt.block_on(alipay.parse_notify(&HeaderMap::new(), &body, NOW));
        assert!(r.is_ok(), "alipay_notify/{name}: {r:?}");
    }
    let keys = fixtures::alipay_keys();
    for name in ["vector_precreate", "query_signed", "cert_sn"] {
        let data = seed("alipay_response", name);
        let (method, body) = split_line(&data);
        let method = std::str::from_utf8(method).expect("method");
        let text = std::str::from_utf8(body).expect("body");
        let r = verify_response(text, method, &keys);
        assert!(r.is_ok(), "alipay_response/{name}: {r:?}");
    }
    let wechat = fixtures::wechat_client();
    for name in ["paid_certificate", "paid_public_key", "refund_certificate"] {
        let data = seed("wechatpay_notify", name);
        let (headers, body) = headers_and_body(&data);
        let r = rt.block_on(wechat.parse_notify(&headers, body, NOW));
        assert!(r.is_ok(), "wechatpay_notify/{name}: {r:?}");
    }
    let stripe = fixtures::stripe_client();
    for name in ["completed", "refund_old_secret", "expired_two_v1"] {
        let data = seed("stripe_webhook", name);
        let (sig, body) = split_line(&data);
        let mut headers = HeaderMap::new();
        headers.insert(
            webhook::HEADER,
            http::HeaderValue::from_bytes(sig).expect("header"),
        );
        let r = rt.block_on(stripe.parse_notify(&headers, body, NOW));
        assert!(r.is_ok(), "stripe_webhook/{name}: {r:?}");
    }
}

fn main() {
    alipay_notify();
    alipay_response();
    wechatpay_notify();
    wechatpay_resource();
    stripe_webhook();
    money();
    order_filter();
    export_csv();
    check_valid_seeds();
    println!("seeds written and checked");
}
