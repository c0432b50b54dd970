//! Building a channel's provider client: a sandbox channel's from the sandbox keys (talking
//! to the built-in sandbox under `{public_url}/sandbox/…`), a live channel's from its
//! decrypted configuration. The registry caches what these return.

use std::sync::Arc;

use super::config::{ConfigProblem, LiveChannel};
use crate::provider::alipay::AlipayClient;
use crate::provider::http::HttpSettings;
use crate::provider::stripe::StripeClient;
use crate::provider::wechatpay::WechatPayClient;
use crate::provider::wechatpay_v2::sandbox::keys::SandboxV2Keys;
use crate::provider::wechatpay_v2::{self, WechatPayV2Client};
use crate::provider::{CallSink, Provider, ProviderError, ProviderKind, SharedClock};
use crate::provider::{alipay, stripe, wechatpay};
use crate::sandbox::Ledger;
use crate::sandbox::keys::SandboxKeys;
use crate::store::Store;

/// What every client is built with.
pub(super) struct Parts {
    pub http: HttpSettings,
    pub sink: Arc<dyn CallSink>,
    pub clock: SharedClock,
}

fn shared<P: Provider + 'static>(
    p: Result<P, ProviderError>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    p.map(|c| Arc::new(c) as Arc<dyn Provider>)
}

/// The client of sandbox channel `name`. `v2_url`: the WeChat Pay v2 sandbox's mutual-TLS
/// listener (only that provider needs it).
pub(super) fn sandbox(
    kind: ProviderKind,
    name: &str,
    keys: &SandboxKeys,
    base: &str,
    v2_url: Option<&str>,
    Parts { http, sink, clock }: Parts,
) -> Result<Arc<dyn Provider>, ProviderError> {
    match kind {
        ProviderKind::Alipay => {
            let cfg = keys
                .alipay
                .client_config(name, &format!("{base}/sandbox/alipay/gateway.do"));
            shared(AlipayClient::new(cfg, http, sink, clock))
        }
        ProviderKind::Wechatpay => {
            let cfg = keys
                .wechatpay
                .client_config(name, &format!("{base}/sandbox/wechatpay"));
            shared(WechatPayClient::new(cfg, http, sink, clock))
        }
        ProviderKind::WechatpayV2 => {
            let url = v2_url.ok_or(ProviderError::Config(
                "sandbox TLS listener not started".into(),
            ))?;
            let cfg = keys.wechatpay_v2.client_config(name, url)?;
            shared(WechatPayV2Client::new(cfg, http, sink, clock))
        }
        ProviderKind::Stripe => {
            let cfg = keys.stripe.client_config(
                name,
                &format!("{base}/sandbox/stripe"),
                &format!("{base}/"),
            );
            shared(StripeClient::new(cfg, http, sink, clock))
        }
    }
}

/// The client of a live channel; a [`ConfigProblem`] when its stored keys do not parse.
pub(super) fn live(
    name: &str,
    live: &LiveChannel,
    Parts { http, sink, clock }: Parts,
) -> Result<Result<Arc<dyn Provider>, ProviderError>, ConfigProblem> {
    Ok(match live {
        LiveChannel::Alipay(s, k) => shared(AlipayClient::new(
            alipay::live::config(name, s, k)?,
            http,
            sink,
            clock,
        )),
        LiveChannel::Wechatpay(s, k) => shared(WechatPayClient::new(
            wechatpay::live::config(name, s, k)?,
            http,
            sink,
            clock,
        )),
        LiveChannel::Stripe(s, k) => shared(StripeClient::new(
            stripe::live::config(name, s, k),
            http,
            sink,
            clock,
        )),
    })
}

/// Serves the WeChat Pay v2 sandbox over mutual TLS on 127.0.0.1 (a free port), over the
/// shared order book, and returns its base URL. v2 refunds need the merchant's client
/// certificate, which the plain-HTTP mount cannot carry. The error text names the failure.
pub(super) async fn start_v2_sandbox(
    keys: &SandboxV2Keys,
    store: &Store,
    public_url: &str,
    clock: SharedClock,
) -> Result<String, String> {
    let gateway = keys.sandbox(
        &format!("{public_url}/sandbox/pay"),
        Ledger::durable(store.clone(), ProviderKind::WechatpayV2),
        clock,
    );
    let failed = |e: &dyn std::fmt::Display| format!("sandbox TLS listener: {e}");
    let server = keys.tls.server_config().map_err(|e| failed(&e))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| failed(&e))?;
    wechatpay_v2::sandbox::serve_tls(
        listener,
        wechatpay_v2::sandbox::router(Arc::new(gateway)),
        server,
    )
    .map_err(|e| failed(&e))
}
