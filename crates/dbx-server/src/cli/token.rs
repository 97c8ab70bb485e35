//! `dbx token keygen` and `dbx token create`: the Ed25519 key pair that `dbx serve
//! --auth-keys` checks, and tokens signed with it.
// These commands print keys and tokens; that is their job.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand, ValueEnum};
use dbx_core::tenancy::TenantId;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use ed25519_dalek::{Signer as _, SigningKey};

/// `dbx token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Role {
    /// Everything, including tenant management, the admin API and /metrics.
    Admin,
    /// Read and write data.
    Rw,
    /// Read data only.
    Ro,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Write a new key pair: FILE (private, keep it secret) and FILE.pub (for --auth-keys).
    Keygen {
        /// Where the private key goes.
        #[arg(long, value_name = "FILE", default_value = "dbx-auth.key")]
        out: PathBuf,
    },
    /// Print a token signed with the private key.
    Create {
        /// The private key from `dbx token keygen`.
        #[arg(long, value_name = "FILE", default_value = "dbx-auth.key")]
        key: PathBuf,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// Limit the token to these tenants (repeatable); `default` is the root database.
        #[arg(long = "tenant", value_name = "ID")]
        tenants: Vec<String>,
        /// How long it is valid, e.g. 30m, 24h, 90d. Without it the token never expires.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
}

pub(super) fn run(args: &TokenArgs) -> Result<ExitCode> {
    match &args.command {
        TokenCommand::Keygen { out } => keygen(out),
        TokenCommand::Create {
            key,
            role,
            tenants,
            expires,
        } => {
            let text = std::fs::read_to_string(key).with_context(|| {
                format!(
                    "cannot read the private key {} (make one with `dbx token keygen`)",
                    key.display()
                )
            })?;
            let signing = SigningKey::from_pkcs8_pem(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not an Ed25519 private key in PEM: {e}",
                    key.display()
                )
            })?;
            let expires = expires
                .as_deref()
                .map(humantime::parse_duration)
                .transpose()
                .context("--expires takes a duration such as 30m, 24h or 90d")?;
            println!("{}", create(&signing, *role, tenants, expires)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn keygen(out: &std::path::Path) -> Result<ExitCode> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let signing = SigningKey::from_bytes(&seed);
    let private = signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
    let public_path = PathBuf::from(format!("{}.pub", out.display()));
    for path in [out, public_path.as_path()] {
        if path.exists() {
            bail!(
                "{} exists; remove it or pass --out elsewhere (an old key would stop verifying its tokens)",
                path.display()
            );
        }
    }
    write_private(out, private.as_bytes())?;
    std::fs::write(&public_path, public)
        .with_context(|| format!("writing {}", public_path.display()))?;
    println!(
        "private key: {} (keep it secret; `dbx token create --key` uses it)",
        out.display()
    );
    println!(
        "public key:  {} (give it to `dbx serve --auth-keys`)",
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the private key readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// A JWT the Hrana server and the REST API accept: sqld's `a` or `p` claims, plus `role`.
fn create(
    signing: &SigningKey,
    role: Role,
    tenants: &[String],
    expires: Option<Duration>,
) -> Result<String> {
    for id in tenants {
        if id != dbx_hrana::server::ROOT_NAMESPACE {
            TenantId::new(id).with_context(|| format!("--tenant {id}"))?;
        }
    }
    if role == Role::Admin && !tenants.is_empty() {
        bail!("an admin token covers every tenant; drop --tenant, or use --role rw");
    }
    let (access, role_name) = match role {
        Role::Admin => ("rw", "admin"),
        Role::Rw => ("rw", "rw"),
        Role::Ro => ("ro", "ro"),
    };
    let mut claims = serde_json::Map::new();
    if tenants.is_empty() {
        claims.insert("a".to_owned(), access.into());
    } else {
        claims.insert(
            "p".to_owned(),
            serde_json::json!({ access: { "ns": tenants } }),
        );
    }
    claims.insert("role".to_owned(), role_name.into());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    claims.insert("iat".to_owned(), now.as_secs().into());
    if let Some(valid) = expires {
        claims.insert("exp".to_owned(), (now + valid).as_secs().into());
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims).to_string());
    let signed = format!("{header}.{body}");
    let signature = URL_SAFE_NO_PAD.encode(signing.sign(signed.as_bytes()).to_bytes());
    Ok(format!("{signed}.{signature}"))
}
