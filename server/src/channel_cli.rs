//! `paydesk channel add|list|disable|enable|rotate|refresh-certs|limit`: channels for automation, keys read from
//! files (never from the command line, where they would land in shell history and `ps`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use paydesk_core::channel::cert_refresh::{RefreshError, RefreshReport, RefreshSchedule};
use paydesk_core::channel::input::FieldMap;
use paydesk_core::channel::{ChannelError, ChannelRegistry, LiveChannel, RotateError, Rotation};
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::{NullSink, ProviderKind, SystemClock};
use paydesk_core::store::{Store, StoreError};
use paydesk_core::vault::MasterKey;

use crate::cli::CliError;
use crate::config::Config;
use crate::startup::open_store;

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Add a live channel; keys and secrets are read from files.
    Add(Box<AddChannel>),
    /// List channels with their mode, state and key fingerprints (never the keys).
    List,
    /// Disable a channel: no new checkouts; existing orders still settle and refund.
    Disable { name: String },
    /// Enable a disabled channel.
    Enable { name: String },
    /// Show or set the channel's amount limits per order (maximum, and the amount above
    /// which dashboard checkouts ask to confirm), per currency.
    Limit(crate::channel_limit_cli::LimitArgs),
    /// One key-rotation step on a live channel (exactly one option); keys from files.
    Rotate(Box<RotateChannel>),
    /// Download a live WeChat Pay channel's platform certificates now and add the new
    /// ones next to the old (what the server does every 12 hours).
    RefreshCerts { name: String },
    /// Write the built-in sandbox merchant's keys into a directory (0600 files), to add a
    /// live channel whose gateway is this server's sandbox and try adding, editing,
    /// rotating and testing channels without a real provider account.
    SandboxKeys {
        #[arg(value_parser = provider_arg())]
        provider: ProviderKind,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct RotateChannel {
    pub name: String,
    /// Stripe: accept a new webhook signing secret (newest) next to the old ones.
    #[arg(long)]
    pub add_webhook_secret_file: Option<PathBuf>,
    /// Stripe: stop accepting the webhook secret with this fingerprint.
    #[arg(long)]
    pub retire_webhook_secret: Option<String>,
    /// WeChat Pay: accept another platform certificate (PEM file).
    #[arg(long)]
    pub add_platform_cert: Option<PathBuf>,
    /// WeChat Pay: drop the platform certificate with this serial.
    #[arg(long)]
    pub retire_platform_cert: Option<String>,
    /// WeChat Pay public-key mode: PUB_KEY_ID_… (with --public-key).
    #[arg(long, requires = "public_key")]
    pub public_key_id: Option<String>,
    #[arg(long, requires = "public_key_id")]
    pub public_key: Option<PathBuf>,
    /// WeChat Pay: sign with this new merchant private key (PEM file, with --serial).
    #[arg(long, requires = "serial")]
    pub merchant_key: Option<PathBuf>,
    #[arg(long, requires = "merchant_key")]
    pub serial: Option<String>,
    /// WeChat Pay: forget the replaced merchant key with this serial.
    #[arg(long)]
    pub retire_merchant_key: Option<String>,
    /// Alipay certificate mode: the new Alipay public certificate (PEM file), and with
    /// --root-cert the new root chain; the old certificate stays accepted until retired.
    #[arg(long)]
    pub add_alipay_cert: Option<PathBuf>,
    #[arg(long, requires = "add_alipay_cert")]
    pub root_cert: Option<PathBuf>,
    /// Alipay: stop accepting the previous Alipay certificate with this serial.
    #[arg(long)]
    pub retire_alipay_cert: Option<String>,
}

fn rotation(r: &RotateChannel) -> Result<Rotation, CliError> {
    let mut steps = Vec::new();
    if let Some(p) = &r.add_webhook_secret_file {
        steps.push(Rotation::AddWebhookSecret(read(p)?));
    }
    if let Some(fp) = &r.retire_webhook_secret {
        steps.push(Rotation::RetireWebhookSecret(fp.clone()));
    }
    if let Some(p) = &r.add_platform_cert {
        steps.push(Rotation::AddPlatformCertificate(read(p)?));
    }
    if let Some(s) = &r.retire_platform_cert {
        steps.push(Rotation::RetirePlatformCertificate(s.clone()));
    }
    if let (Some(id), Some(p)) = (&r.public_key_id, &r.public_key) {
        steps.push(Rotation::SetPublicKey {
            id: id.clone(),
            pem: read(p)?,
        });
    }
    if let (Some(p), Some(serial)) = (&r.merchant_key, &r.serial) {
        steps.push(Rotation::RotateMerchantKey {
            serial: serial.clone(),
            private_key: read(p)?,
        });
    }
    if let Some(s) = &r.retire_merchant_key {
        steps.push(Rotation::RetireMerchantKey(s.clone()));
    }
    if let Some(p) = &r.add_alipay_cert {
        steps.push(Rotation::AddAlipayCertificate {
            cert: read(p)?,
            root: read_opt(&r.root_cert)?,
        });
    }
    if let Some(s) = &r.retire_alipay_cert {
        steps.push(Rotation::RetireAlipayCertificate(s.clone()));
    }
    match steps.len() {
        1 => Ok(steps.remove(0)),
        0 => Err(failed("say what to rotate (see --help)")),
        _ => Err(failed("one rotation step at a time")),
    }
}

#[derive(Args, Debug)]
pub struct AddChannel {
    /// Channel name (a-z, 0-9, -, _): the `{channel}` of its notify URL.
    pub name: String,
    #[arg(long, value_parser = provider_arg())]
    pub provider: ProviderKind,
    /// Gateway base URL (default: the provider's production gateway).
    #[arg(long)]
    pub gateway: Option<String>,
    /// Alipay app id.
    #[arg(long)]
    pub app_id: Option<String>,
    /// Alipay app private key / WeChat merchant API private key (PEM file).
    #[arg(long)]
    pub private_key: Option<PathBuf>,
    /// Alipay public key (public-key mode).
    #[arg(long)]
    pub alipay_public_key: Option<PathBuf>,
    /// Alipay certificate mode: app certificate, Alipay certificate, root certificate.
    #[arg(long)]
    pub app_cert: Option<PathBuf>,
    #[arg(long)]
    pub alipay_cert: Option<PathBuf>,
    #[arg(long)]
    pub root_cert: Option<PathBuf>,
    /// WeChat Pay merchant id, app id and merchant certificate serial.
    #[arg(long)]
    pub mchid: Option<String>,
    #[arg(long)]
    pub appid: Option<String>,
    #[arg(long)]
    pub serial: Option<String>,
    /// File holding the 32-character APIv3 key.
    #[arg(long)]
    pub apiv3_key_file: Option<PathBuf>,
    /// WeChat Pay public-key mode: PUB_KEY_ID_… and the public key file.
    #[arg(long)]
    pub public_key_id: Option<String>,
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// WeChat Pay platform certificates (repeatable).
    #[arg(long)]
    pub platform_cert: Vec<PathBuf>,
    /// Download WeChat Pay platform certificates when an unknown serial shows up.
    #[arg(long)]
    pub download_certificates: bool,
    /// Files holding the Stripe secret key and the webhook signing secret.
    #[arg(long)]
    pub secret_key_file: Option<PathBuf>,
    #[arg(long)]
    pub webhook_secret_file: Option<PathBuf>,
    /// Where Stripe Checkout sends the payer afterwards.
    #[arg(long)]
    pub success_url: Option<String>,
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))
}

fn read_opt(p: &Option<PathBuf>) -> Result<Option<String>, CliError> {
    p.as_deref().map(read).transpose()
}

/// The flags as the named fields a provider reads (`LiveChannel::from_input`), key files
/// read. `--private-key` is the app key (Alipay) or the merchant key (WeChat Pay).
fn fields(a: &AddChannel) -> Result<FieldMap, CliError> {
    let platform_certificates = a
        .platform_cert
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?
        .join("\n");
    let private_key = read_opt(&a.private_key)?;
    let mut f = FieldMap::new();
    f.set("gateway", a.gateway.clone())
        .set("app_id", a.app_id.clone())
        .set("app_private_key", private_key.clone())
        .set("merchant_private_key", private_key)
        .set("alipay_public_key", read_opt(&a.alipay_public_key)?)
        .set("app_cert", read_opt(&a.app_cert)?)
        .set("alipay_cert", read_opt(&a.alipay_cert)?)
        .set("alipay_root_cert", read_opt(&a.root_cert)?)
        .set("mchid", a.mchid.clone())
        .set("appid", a.appid.clone())
        .set("merchant_serial", a.serial.clone())
        .set("apiv3_key", read_opt(&a.apiv3_key_file)?)
        .set("public_key_id", a.public_key_id.clone())
        .set("public_key", read_opt(&a.public_key)?)
        .set("platform_certificates", Some(platform_certificates))
        .set(
            "download_certificates",
            a.download_certificates.then(|| "1".to_string()),
        )
        .set("secret_key", read_opt(&a.secret_key_file)?)
        .set("webhook_secret", read_opt(&a.webhook_secret_file)?)
        .set("success_url", a.success_url.clone());
    Ok(f)
}

/// `--provider`: any registered provider's name (`ProviderKind::ALL`).
fn provider_arg() -> impl clap::builder::TypedValueParser<Value = ProviderKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ProviderKind::ALL.map(ProviderKind::as_str)).try_map(
        |name| ProviderKind::parse(&name).ok_or_else(|| format!("unknown provider `{name}`")),
    )
}

pub async fn run(config: &Config, cmd: ChannelCommand) -> Result<(), CliError> {
    let store = open_store(config).await.map_err(failed)?;
    let master = MasterKey::load(&config.settings.data_dir).map_err(failed)?;
    let public_url = config.public_url.as_str().trim_end_matches('/').to_string();
    let registry = ChannelRegistry::new(
        store.clone(),
        master,
        &public_url,
        Arc::new(NullSink),
        Arc::new(SystemClock),
        HttpSettings::default(),
    );
    registry.ensure_sandbox_channels().await.map_err(failed)?;
    match cmd {
        ChannelCommand::Add(a) => add(&store, &registry, &public_url, &a).await,
        ChannelCommand::List => list(&store, &registry).await,
        ChannelCommand::Rotate(r) => rotate_step(&store, &registry, &r).await,
        ChannelCommand::RefreshCerts { name } => refresh_certs(&store, &registry, &name).await,
        ChannelCommand::SandboxKeys { provider, out } => {
            sandbox_keys(&registry, &public_url, provider, &out).await
        }
        ChannelCommand::Disable { name } => toggle(&store, &name, true).await,
        ChannelCommand::Enable { name } => toggle(&store, &name, false).await,
        ChannelCommand::Limit(a) => crate::channel_limit_cli::run(&store, a).await,
    }
}

/// `channel add`: validated, stored sealed, audited.
async fn add(
    store: &Store,
    registry: &ChannelRegistry,
    public_url: &str,
    a: &AddChannel,
) -> Result<(), CliError> {
    let live =
        LiveChannel::from_input(a.provider, &fields(a)?, None, public_url).map_err(failed)?;
    let summary = live.validate().map_err(failed)?;
    match registry.add_live(&a.name, &live).await {
        Ok(_) => {}
        Err(ChannelError::Store(StoreError::Conflict)) => {
            return Err(failed(format!("a channel named `{}` exists", a.name)));
        }
        Err(e) => return Err(failed(e)),
    }
    store
        .audit("cli", "channel_created", &a.name, &summary.key_mode)
        .await
        .map_err(failed)?;
    let kind = live.provider();
    println!("channel `{}` added ({kind}, {})", a.name, summary.key_mode);
    for (label, fp) in summary.fingerprints {
        println!("  {label}: {fp}");
    }
    println!("  notify URL: {}", registry.notify_url(kind, &a.name));
    Ok(())
}

/// `channel list`: mode, state and key fingerprints (never the keys).
async fn list(store: &Store, registry: &ChannelRegistry) -> Result<(), CliError> {
    for row in store.channels().await.map_err(failed)? {
        let state = if row.disabled_at.is_some() {
            "disabled"
        } else {
            "enabled"
        };
        let detail = match registry.live_config(&row.name).await {
            Ok(Some(l)) => l
                .validate()
                .map(|s| {
                    let fps: Vec<String> = s
                        .fingerprints
                        .iter()
                        .map(|(l, f)| format!("{l} {f}"))
                        .collect();
                    format!("{} {} [{}]", s.account, s.key_mode, fps.join(", "))
                })
                .unwrap_or_else(|e| format!("misconfigured: {e}")),
            Ok(None) => "built-in sandbox".to_string(),
            Err(e) => format!("unreadable: {e}"),
        };
        println!(
            "{}\t{}\t{}\t{state}\t{detail}",
            row.name, row.provider, row.mode
        );
    }
    Ok(())
}

/// `channel rotate`: one step, audited.
async fn rotate_step(
    store: &Store,
    registry: &ChannelRegistry,
    r: &RotateChannel,
) -> Result<(), CliError> {
    let step = rotation(r)?;
    let action = step.action();
    let detail = match registry.rotate(&r.name, step).await {
        Ok(d) => d,
        Err(RotateError::Problem(p)) => return Err(failed(p)),
        Err(RotateError::Channel(ChannelError::NotFound(_))) => {
            return Err(failed(format!("no live channel named `{}`", r.name)));
        }
        Err(e) => return Err(failed(e)),
    };
    store
        .audit("cli", action, &r.name, &detail)
        .await
        .map_err(failed)?;
    println!(
        "channel `{}`: {} ({detail})",
        r.name,
        action.replace('_', " ")
    );
    Ok(())
}

/// `channel refresh-certs`: download the WeChat Pay platform certificates now.
async fn refresh_certs(
    store: &Store,
    registry: &ChannelRegistry,
    name: &str,
) -> Result<(), CliError> {
    match registry
        .refresh_platform_certificates(name, &RefreshSchedule::default())
        .await
    {
        Ok(r) => {
            store
                .audit(
                    "cli",
                    "platform_certificates_refreshed",
                    name,
                    &r.added.join(" "),
                )
                .await
                .map_err(failed)?;
            println!("{}", refresh_summary(name, &r));
            Ok(())
        }
        Err(RefreshError::NotFound(_)) => Err(failed(format!("no channel named `{name}`"))),
        Err(e) => {
            store
                .audit(
                    "cli",
                    "platform_certificates_refresh_failed",
                    name,
                    e.code(),
                )
                .await
                .map_err(failed)?;
            Err(failed(format!("channel `{name}`: {e}")))
        }
    }
}

/// `channel sandbox-keys`: the sandbox merchant's key files (0600).
async fn sandbox_keys(
    registry: &ChannelRegistry,
    public_url: &str,
    provider: ProviderKind,
    out: &Path,
) -> Result<(), CliError> {
    let keys = registry.sandbox_keys().await.map_err(failed)?;
    let (files, gateway) = keys
        .live_channel_files(provider)
        .ok_or_else(|| failed(format!("{provider} has no live channels yet")))?
        .map_err(failed)?;
    std::fs::create_dir_all(out).map_err(failed)?;
    for (file, content) in files {
        write_private(&out.join(file), &content)?;
    }
    println!(
        "sandbox keys written to {}; gateway: {public_url}/sandbox/{gateway}",
        out.display()
    );
    Ok(())
}

/// "channel `shop`: 2 platform certificates (1 new: 5157…), the newest expires 2031-04-25"
fn refresh_summary(name: &str, r: &RefreshReport) -> String {
    let new = if r.added.is_empty() {
        "none new".to_string()
    } else {
        format!("{} new: {}", r.added.len(), r.added.join(", "))
    };
    let expires = r
        .latest_expiry
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .map(|t| format!(", the newest expires {}", t.date()))
        .unwrap_or_default();
    let expired = if r.expired.is_empty() {
        String::new()
    } else {
        format!("; dropped expired: {}", r.expired.join(", "))
    };
    let plural = if r.certificates == 1 { "" } else { "s" };
    format!(
        "channel `{name}`: {} platform certificate{plural} ({new}){expires}{expired}",
        r.certificates
    )
}

/// Writes a key file readable by its owner only.
fn write_private(path: &Path, content: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(content.as_bytes())
        .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
}

async fn toggle(
    store: &paydesk_core::store::Store,
    name: &str,
    disabled: bool,
) -> Result<(), CliError> {
    match store.set_channel_disabled(name, disabled).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(failed(format!("no channel named `{name}`"))),
        Err(e) => return Err(failed(e)),
    }
    let action = if disabled {
        "channel_disabled"
    } else {
        "channel_enabled"
    };
    store.audit("cli", action, name, "").await.map_err(failed)?;
    println!(
        "channel `{name}` {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}
