//! Targets: where the encrypted repository lives. A target is named by a URL and reached
//! through Apache OpenDAL:
//!
//! * `file:///srv/backup/chatvault` or a plain path: a local folder or a mounted NAS (default)
//! * `s3://bucket/prefix?endpoint=https://cos.ap-guangzhou.myqcloud.com&region=ap-guangzhou`:
//!   any S3-compatible store; `style=virtual` for virtual-host addressing (path style is the default)
//! * `webdav+https://user@dav.jianguoyun.com/dav/chatvault`: WebDAV (`webdav+http` for plain HTTP)
//!
//! Secrets never appear in a URL: a URL with a password in it, or an S3 `endpoint=` with user
//! info, is refused. They come from [`TargetCredentials`] (the keychain or, for headless use, the
//! environment). A password is not sent over plain `webdav+http` to another machine, where Basic
//! auth would carry it in clear text, unless the URL says `?insecure=1`.

use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::platform::keychain::Keychain;
use opendal::layers::{ConcurrentLimitLayer, RetryLayer, ThrottleLayer, TimeoutLayer};

/// Requests in flight per target at most.
pub(crate) const MAX_CONCURRENT: usize = 8;
use opendal::{services, Operator};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use url::Url;

/// A parsed target URL. Holds no secrets, so it can be shown and saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    Local {
        path: PathBuf,
    },
    S3 {
        bucket: String,
        prefix: String,
        endpoint: Option<String>,
        region: Option<String>,
        virtual_host: bool,
    },
    WebDav {
        endpoint: String,
        root: String,
        user: Option<String>,
        /// `?insecure=1`: the user accepts sending the password in clear text over `http`.
        insecure: bool,
    },
}

/// Secrets needed to reach a target, from the keychain or the environment.
#[derive(Debug, Default, Clone)]
pub struct TargetCredentials {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret<String>>,
    pub password: Option<Secret<String>>,
}

impl TargetCredentials {
    /// The conventional environment variables, read through `var` so callers control the
    /// environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `CHATVAULT_WEBDAV_PASSWORD`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        TargetCredentials {
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY").map(Secret::new),
            password: var("CHATVAULT_WEBDAV_PASSWORD").map(Secret::new),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.access_key_id.is_none() && self.secret_access_key.is_none() && self.password.is_none()
    }

    /// The keychain account holding a target's credentials (the URL names no secret).
    pub fn keychain_account(spec: &TargetSpec) -> String {
        format!("target:{spec}")
    }

    /// Stores the credentials in the keychain as one secret.
    pub fn save(&self, keychain: &dyn Keychain, spec: &TargetSpec) -> Result<()> {
        let value = serde_json::json!({
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key.as_ref().map(|s| s.expose().clone()),
            "password": self.password.as_ref().map(|s| s.expose().clone()),
        });
        keychain.set(
            &Self::keychain_account(spec),
            &Secret::new(value.to_string()),
        )
    }

    pub fn load(keychain: &dyn Keychain, spec: &TargetSpec) -> Result<Option<TargetCredentials>> {
        let Some(text) = keychain.get(&Self::keychain_account(spec))? else {
            return Ok(None);
        };
        let v: serde_json::Value = serde_json::from_str(text.expose()).map_err(|_| {
            Error::new(
                ErrorCode::KeychainUnavailable,
                "the saved target credentials are unreadable",
            )
            .with_hint("Enter the credentials again; they will replace the saved ones.")
        })?;
        let s = |k: &str| v[k].as_str().map(str::to_string);
        Ok(Some(TargetCredentials {
            access_key_id: s("access_key_id"),
            secret_access_key: s("secret_access_key").map(Secret::new),
            password: s("password").map(Secret::new),
        }))
    }

    pub fn forget(keychain: &dyn Keychain, spec: &TargetSpec) -> Result<bool> {
        keychain.delete(&Self::keychain_account(spec))
    }

    /// The keychain's credentials for the target, else the environment's.
    pub fn resolve(
        keychain: &dyn Keychain,
        spec: &TargetSpec,
        var: impl Fn(&str) -> Option<String>,
    ) -> TargetCredentials {
        match Self::load(keychain, spec) {
            Ok(Some(c)) if !c.is_empty() => c,
            _ => Self::from_env(var),
        }
    }

    /// The credentials saved for the target: the keychain's, else the process environment's.
    pub fn saved(keychain: &dyn Keychain, spec: &TargetSpec) -> TargetCredentials {
        Self::resolve(keychain, spec, |k| std::env::var(k).ok())
    }
}

/// The operator for the target at `url` with its saved credentials ([`TargetCredentials::saved`])
/// and an optional upload limit in KiB/s: how every host reaches a target it already knows.
pub fn operator_for(
    url: &str,
    keychain: &dyn Keychain,
    limit_kib: Option<u32>,
) -> Result<Operator> {
    let spec: TargetSpec = url.parse()?;
    spec.operator_with(&TargetCredentials::saved(keychain, &spec), limit_kib)
}

fn bad_url(input: &str, why: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::TargetUrlInvalid,
        format!("target URL '{input}': {why}"),
    )
    .with_hint(
        "Use file:///path/to/folder, s3://bucket/prefix?endpoint=https://host&region=REGION \
         or webdav+https://user@host/path.",
    )
}

impl FromStr for TargetSpec {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let input = input.trim();
        if input.is_empty() {
            return Err(bad_url(input, "empty"));
        }
        if !input.contains("://") {
            return Ok(TargetSpec::Local {
                path: PathBuf::from(input),
            });
        }
        let url = Url::parse(input).map_err(|e| bad_url(input, e))?;
        // Before anything else: every later error echoes the input.
        if url.scheme() == "s3"
            && url
                .query_pairs()
                .any(|(k, v)| k == "endpoint" && has_user_info(&v))
        {
            return Err(Error::new(
                ErrorCode::TargetUrlInvalid,
                "the S3 endpoint in the target URL contains a user name or key; \
                 it would end up in settings and logs",
            )
            .with_hint(
                "Remove the part before '@' from the endpoint; ChatVault keeps the access key in the OS keychain.",
            ));
        }
        if url.password().is_some() {
            return Err(Error::new(
                ErrorCode::TargetUrlInvalid,
                "the target URL contains a password; it would end up in settings and logs",
            )
            .with_hint(
                "Remove the password from the URL; ChatVault keeps it in the OS keychain.",
            ));
        }
        match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| bad_url(input, "not a local path"))?;
                Ok(TargetSpec::Local { path })
            }
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| bad_url(input, "no bucket"))?;
                let mut endpoint = None;
                let mut region = None;
                let mut virtual_host = false;
                for (k, v) in url.query_pairs() {
                    match k.as_ref() {
                        "endpoint" => {
                            let e = Url::parse(&v)
                                .map_err(|e| bad_url(input, format!("endpoint: {e}")))?;
                            if !matches!(e.scheme(), "http" | "https") {
                                return Err(bad_url(input, "endpoint must be http:// or https://"));
                            }
                            endpoint = Some(v.trim_end_matches('/').to_string());
                        }
                        "region" => region = Some(v.into_owned()),
                        "style" => match v.as_ref() {
                            "path" => virtual_host = false,
                            "virtual" => virtual_host = true,
                            other => {
                                return Err(bad_url(
                                    input,
                                    format!("style '{other}' is neither path nor virtual"),
                                ))
                            }
                        },
                        other => return Err(bad_url(input, format!("unknown option '{other}'"))),
                    }
                }
                Ok(TargetSpec::S3 {
                    bucket: bucket.to_string(),
                    prefix: url.path().trim_matches('/').to_string(),
                    endpoint,
                    region,
                    virtual_host,
                })
            }
            "webdav+http" | "webdav+https" | "webdav" => {
                let scheme = if url.scheme() == "webdav+http" {
                    "http"
                } else {
                    "https"
                };
                let host = url.host_str().ok_or_else(|| bad_url(input, "no host"))?;
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let user = Some(url.username().to_string()).filter(|u| !u.is_empty());
                let mut insecure = false;
                for (k, v) in url.query_pairs() {
                    match (k.as_ref(), v.as_ref()) {
                        ("insecure", "1" | "true") if scheme == "http" => insecure = true,
                        ("insecure", "0" | "false") => insecure = false,
                        ("insecure", _) if scheme == "http" => {
                            return Err(bad_url(input, "insecure is 1 or 0"))
                        }
                        ("insecure", _) => {
                            return Err(bad_url(input, "insecure=1 only applies to webdav+http"))
                        }
                        (other, _) => {
                            return Err(bad_url(input, format!("unknown option '{other}'")))
                        }
                    }
                }
                Ok(TargetSpec::WebDav {
                    endpoint: format!("{scheme}://{host}{port}"),
                    root: format!("/{}", url.path().trim_matches('/')),
                    user,
                    insecure,
                })
            }
            other => Err(bad_url(input, format!("unsupported scheme '{other}'"))),
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Local { path } => write!(f, "file://{}", path.display()),
            TargetSpec::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                virtual_host,
            } => {
                write!(f, "s3://{bucket}/{prefix}")?;
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                if let Some(e) = endpoint {
                    q.append_pair("endpoint", e);
                }
                if let Some(r) = region {
                    q.append_pair("region", r);
                }
                if *virtual_host {
                    q.append_pair("style", "virtual");
                }
                let q = q.finish();
                if !q.is_empty() {
                    write!(f, "?{q}")?;
                }
                Ok(())
            }
            TargetSpec::WebDav {
                endpoint,
                root,
                user,
                insecure,
            } => {
                let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
                let user = user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
                write!(f, "webdav+{scheme}://{user}{rest}{root}")?;
                if *insecure {
                    write!(f, "?insecure=1")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether an `endpoint=` value names a user or key before '@' in its authority. Works on
/// the raw text, so an endpoint too broken to parse is caught too.
fn has_user_info(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .contains('@')
}

/// Whether an `http://` endpoint stays on this machine (loopback), or is `https://`: then a
/// password sent to it is seen by no network.
fn keeps_to_this_machine(endpoint: &str) -> bool {
    let Ok(url) = Url::parse(endpoint) else {
        return false;
    };
    if url.scheme() == "https" {
        return true;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Where a local target's objects are written before they are renamed into place.
pub const LOCAL_TMP_DIR: &str = ".chatvault-tmp";

impl TargetSpec {
    /// An OpenDAL operator for this target, with retries, timeouts and at most
    /// [`MAX_CONCURRENT`] requests in flight.
    pub fn operator(&self, creds: &TargetCredentials) -> Result<Operator> {
        self.operator_with(creds, None)
    }

    /// Like [`TargetSpec::operator`], with an optional upload bandwidth limit in KiB/s.
    pub(crate) fn operator_with(
        &self,
        creds: &TargetCredentials,
        limit_kib: Option<u32>,
    ) -> Result<Operator> {
        let op = self.raw_operator(creds)?;
        let op = op.layer(ConcurrentLimitLayer::new(MAX_CONCURRENT));
        Ok(match limit_kib.filter(|k| *k > 0) {
            // Burst of one second, and at least 8 MiB so a whole pack fits.
            Some(kib) => op.layer(ThrottleLayer::new(
                kib.saturating_mul(1024),
                kib.saturating_mul(1024).max(8 << 20),
            )),
            None => op,
        })
    }

    fn raw_operator(&self, creds: &TargetCredentials) -> Result<Operator> {
        let op = match self {
            TargetSpec::Local { path } => {
                let root = std::path::absolute(path)
                    .map_err(|e| Error::io(format!("resolving {}", path.display()), &e))?;
                // Objects are written to a temporary file, synced and renamed into place, so a
                // crash or a full disk never leaves a torn object under its final name. Only in
                // a folder that exists: opening a target must not litter a missing (unmounted,
                // mistyped) path; a new folder gets its temporary folder from the next run on.
                let fs = services::Fs::default().root(&root.to_string_lossy());
                Operator::new(if root.is_dir() {
                    fs.atomic_write_dir(&root.join(LOCAL_TMP_DIR).to_string_lossy())
                } else {
                    fs
                })
            }
            TargetSpec::S3 { bucket, prefix, endpoint, region, virtual_host } => {
                let mut b = services::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    .region(region.as_deref().unwrap_or("us-east-1"))
                    .disable_config_load()
                    .disable_ec2_metadata();
                if let Some(e) = endpoint {
                    b = b.endpoint(e);
                }
                if *virtual_host {
                    b = b.enable_virtual_host_style();
                }
                match (&creds.access_key_id, &creds.secret_access_key) {
                    (Some(id), Some(secret)) => {
                        b = b.access_key_id(id).secret_access_key(secret.expose());
                    }
                    _ => {
                        return Err(Error::new(ErrorCode::TargetAuth, "no S3 credentials for this target")
                            .with_hint("Save the access key in ChatVault, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."))
                    }
                }
                Operator::new(b)
            }
            TargetSpec::WebDav { endpoint, root, user, insecure } => {
                if creds.password.is_some() && !insecure && !keeps_to_this_machine(endpoint) {
                    return Err(Error::new(
                        ErrorCode::TargetUrlInvalid,
                        "refusing to send the WebDAV password over plain http: \
                         Basic auth would carry it in clear text to the server and everyone on the way",
                    )
                    .with_hint(
                        "Use webdav+https:// if the server offers it. To send the password in clear \
                         text anyway (a trusted home network), add ?insecure=1 to the target URL.",
                    ));
                }
                let mut b = services::Webdav::default().endpoint(endpoint).root(root);
                if let Some(u) = user {
                    b = b.username(u);
                }
                if let Some(p) = &creds.password {
                    b = b.password(p.expose());
                }
                Operator::new(b)
            }
        }
        .map_err(map_opendal_error)?;
        Ok(op
            .layer(TimeoutLayer::new().with_timeout(Duration::from_secs(60)))
            .layer(
                RetryLayer::new()
                    .with_jitter()
                    .with_min_delay(Duration::from_millis(300))
                    .with_max_times(3),
            ))
    }
}

/// Reduces an OpenDAL error to our codes. OpenDAL's text names the operation, path, HTTP
/// status and response headers; it holds no request headers, so no credentials.
pub fn map_opendal_error(e: opendal::Error) -> Error {
    let text = e.to_string();
    // The root cause (DNS, TLS, refused) is in the source chain, not in the display text.
    let mut chain = text.to_ascii_lowercase();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(" | ");
        chain.push_str(&s.to_string().to_ascii_lowercase());
        source = s.source();
    }
    classify(e.kind(), &text, &chain)
}

fn classify(kind: opendal::ErrorKind, text: &str, chain: &str) -> Error {
    use opendal::ErrorKind as K;
    let has = |needles: &[&str]| needles.iter().any(|n| chain.contains(n));
    let e = |code, hint: &str| Error::new(code, text.to_string()).with_hint(hint);
    match (kind, http_status(text)) {
        _ if has(&["requesttimetooskewed", "request time too skewed", "clock skew"]) => e(
            ErrorCode::TargetClockSkew,
            "This computer's clock is off: set the date and time automatically, then try again.",
        ),
        (K::PermissionDenied, _) | (_, Some(401 | 403)) => {
            e(ErrorCode::TargetAuth, "Check the access key, secret or password, and that they may write here.")
        }
        (K::NotFound, _) | (_, Some(404)) => e(
            ErrorCode::TargetNotFound,
            "Create the bucket (in your provider's console) or the folder, or fix the address.",
        ),
        (K::ConfigInvalid, _) => Error::new(ErrorCode::TargetUrlInvalid, text.to_string()),
        (_, Some(413 | 507)) => {
            e(ErrorCode::TargetQuota, "The storage is full or over its quota: free space or raise the quota.")
        }
        // A local folder target on a full disk: ENOSPC (28) or EDQUOT (122) from the OS.
        _ if has(&[
            "quotaexceeded",
            "insufficient storage",
            "quota exceeded",
            "no space left on device",
            "no storage space",
            "os error 28",
            "disk quota exceeded",
            "os error 122",
        ]) => {
            e(ErrorCode::TargetQuota, "The storage is full or over its quota: free space or raise the quota.")
        }
        _ if has(&["certificate", "tls", "ssl", "handshake", "corrupt message", "invalidcontenttype"]) => e(
            ErrorCode::TargetTls,
            "The secure connection failed: check http:// versus https://, and that the server's certificate is valid.",
        ),
        _ if has(&["dns", "lookup address", "name or service not known", "no such host"]) => {
            e(ErrorCode::TargetUnreachable, "The server name could not be found: check the address and your network.")
        }
        _ if has(&["error sending request", "connection refused", "timed out", "connection reset"]) => {
            e(ErrorCode::TargetUnreachable, "Check the address, that the server is running, and your network.")
        }
        // A server error after the retries: S3 has no standard "storage full" code and a full
        // server's disk often shows as a plain 500 (moto, wsgidav with another message).
        (_, Some(500..=599)) => e(
            ErrorCode::TargetFailed,
            "The storage server failed to store or read data (an HTTP 5xx error). It may be out of disk space or quota, or failing: check its free space and logs, then try again.",
        ),
        _ => Error::new(ErrorCode::TargetFailed, text.to_string()),
    }
}

/// The HTTP status OpenDAL quotes in its error context (`status: 401`), if any.
fn http_status(text: &str) -> Option<u16> {
    let at = text.find("status: ")? + "status: ".len();
    text[at..].get(..3)?.parse().ok()
}

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct ProbeReport {
    pub wrote: bool,
    pub read_back: bool,
    pub listed: bool,
    pub deleted: bool,
}

/// Writes, reads, lists and deletes a small probe object: proves that a backup could work.
pub async fn probe(op: &Operator) -> Result<ProbeReport> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| Error::internal(format!("random: {e}")))?;
    let name: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let path = format!("probe-{name}");
    let body = nonce.to_vec();

    op.write(&path, body.clone())
        .await
        .map_err(|e| map_opendal_error(e).context("writing a probe object"))?;
    let back = op
        .read(&path)
        .await
        .map_err(|e| map_opendal_error(e).context("reading the probe back"))?;
    let read_back = back.to_vec() == body;
    let entries = op
        .list("")
        .await
        .map_err(|e| map_opendal_error(e).context("listing the target"))?;
    let listed = entries.iter().any(|e| e.path() == path);
    op.delete(&path)
        .await
        .map_err(|e| map_opendal_error(e).context("deleting the probe"))?;
    let deleted = !op
        .exists(&path)
        .await
        .map_err(|e| map_opendal_error(e).context("checking the probe"))?;
    let report = ProbeReport {
        wrote: true,
        read_back,
        listed,
        deleted,
    };
    if !(read_back && listed && deleted) {
        return Err(Error::new(
            ErrorCode::TargetFailed,
            format!("the target did not behave like storage: {report:?}"),
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_prints_it_back() {
        for url in [
            "file:///srv/backup",
            "s3://bucket/some/prefix?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1",
            "s3://bucket/?style=virtual",
            "webdav+https://alice@dav.jianguoyun.com/dav/chatvault",
            "webdav+http://127.0.0.1:8080/backup",
            "webdav+http://bob@nas.lan:5005/backup?insecure=1",
        ] {
            let spec: TargetSpec = url.parse().unwrap();
            assert_eq!(spec.to_string(), url, "{spec:?}");
        }
    }

    #[test]
    fn reads_the_http_status_from_opendal_context() {
        assert_eq!(
            http_status("Unexpected at write, context: { response: Parts { status: 401, version"),
            Some(401)
        );
        assert_eq!(http_status("no status here"), None);
    }

    #[test]
    fn each_kind_of_target_failure_has_its_own_code() {
        use opendal::ErrorKind as K;
        let c = |kind, text: &str, chain: &str| {
            classify(kind, text, &format!("{text} | {chain}").to_lowercase()).code()
        };
        assert_eq!(
            c(
                K::Unexpected,
                "send",
                "error sending request | dns error: failed to lookup address information"
            ),
            ErrorCode::TargetUnreachable
        );
        assert_eq!(
            c(
                K::Unexpected,
                "send",
                "error sending request | connection refused"
            ),
            ErrorCode::TargetUnreachable
        );
        assert_eq!(
            c(
                K::Unexpected,
                "send",
                "error sending request | received corrupt message of type invalidcontenttype"
            ),
            ErrorCode::TargetTls
        );
        assert_eq!(
            c(
                K::Unexpected,
                "send",
                "invalid peer certificate: unknownissuer"
            ),
            ErrorCode::TargetTls
        );
        assert_eq!(
            c(
                K::Unexpected,
                "x response: Parts { status: 403, ",
                "<Code>RequestTimeTooSkewed</Code>"
            ),
            ErrorCode::TargetClockSkew
        );
        assert_eq!(c(K::PermissionDenied, "denied", ""), ErrorCode::TargetAuth);
        assert_eq!(
            c(K::Unexpected, "x response: Parts { status: 507, ", ""),
            ErrorCode::TargetQuota
        );
        assert_eq!(
            c(K::NotFound, "no bucket", "nosuchbucket"),
            ErrorCode::TargetNotFound
        );
        // A local folder on a full disk, as OpenDAL's fs service reports it.
        assert_eq!(
            c(
                K::Unexpected,
                "Unexpected (persistent) at write => no storage space",
                "no space left on device (os error 28)"
            ),
            ErrorCode::TargetQuota
        );
        assert_eq!(c(K::Unexpected, "weird", "teapot"), ErrorCode::TargetFailed);
        // A WebDAV server whose disk is full and says so in a 500's body (wsgidav).
        assert_eq!(
            c(
                K::Unexpected,
                "x response: Parts { status: 500, ",
                "source exception: oserror(28, 'no space left on device')"
            ),
            ErrorCode::TargetQuota
        );
    }

    #[test]
    fn a_server_error_after_the_retries_hints_at_a_full_or_failing_server() {
        let e = classify(
            opendal::ErrorKind::Unexpected,
            "Unexpected (persistent) at write, context: { response: Parts { status: 500, ",
            "internal server error",
        );
        assert_eq!(e.code(), ErrorCode::TargetFailed);
        let hint = e.hint().unwrap_or_default();
        assert!(
            hint.contains("disk space") && hint.contains("logs"),
            "{hint}"
        );
    }

    #[test]
    fn plain_path_is_a_local_folder() {
        assert_eq!(
            "/mnt/nas/chat".parse::<TargetSpec>().unwrap(),
            TargetSpec::Local {
                path: "/mnt/nas/chat".into()
            }
        );
    }

    /// The error `url` gives, which says the URL is invalid.
    fn invalid_url(url: &str) -> Error {
        let err = url.parse::<TargetSpec>().unwrap_err();
        assert_eq!(err.code(), ErrorCode::TargetUrlInvalid, "{url}");
        err
    }

    #[test]
    fn refuses_passwords_in_urls_without_echoing_them() {
        let err = invalid_url("webdav+https://bob:s3cret@host/x");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn rejects_unknown_schemes_and_options_with_a_hint() {
        for bad in [
            "ftp://host/x",
            "s3:///nobucket",
            "s3://b/p?colour=red",
            "s3://b/?style=odd",
            "webdav+https://h/x?insecure=1",
            "webdav+http://h/x?insecure=maybe",
            "webdav+http://h/x?colour=red",
        ] {
            assert!(invalid_url(bad).hint().is_some(), "{bad}");
        }
    }

    fn with_password() -> TargetCredentials {
        TargetCredentials {
            password: Some(Secret::new("hunter2".into())),
            ..Default::default()
        }
    }

    #[test]
    fn refuses_to_send_a_webdav_password_over_http_to_another_machine() {
        let spec: TargetSpec = "webdav+http://bob@nas.lan/dav".parse().unwrap();
        let err = spec.operator(&with_password()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TargetUrlInvalid);
        assert!(err.hint().unwrap().contains("?insecure=1"), "{err:?}");
        assert!(!format!("{err:?}{err}").contains("hunter2"));
        // Without a password there is nothing to leak.
        spec.operator(&TargetCredentials::default()).unwrap();
    }

    #[test]
    fn sends_a_webdav_password_over_http_to_loopback_or_when_told_to() {
        for url in [
            "webdav+http://bob@127.0.0.1:8080/dav",
            "webdav+http://bob@127.8.9.1/dav",
            "webdav+http://bob@[::1]:8080/dav",
            "webdav+http://bob@localhost:8080/dav",
            "webdav+http://bob@nas.lan/dav?insecure=1",
            "webdav+https://bob@nas.lan/dav",
            "webdav://bob@nas.lan/dav",
        ] {
            let spec: TargetSpec = url.parse().unwrap();
            spec.operator(&with_password())
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        for url in [
            "webdav+http://bob@nas.lan/dav?insecure=0",
            "webdav+http://bob@localhost.evil.example/dav",
            "webdav+http://bob@10.0.0.1/dav",
        ] {
            let spec: TargetSpec = url.parse().unwrap();
            assert!(spec.operator(&with_password()).is_err(), "{url}");
        }
    }

    #[test]
    fn refuses_user_info_in_an_s3_endpoint_without_echoing_it() {
        for bad in [
            "s3://b/p?endpoint=https://AKIDKEY:s3cret@cos.example.com&region=x",
            "s3://b/p?endpoint=https%3A%2F%2FAKIDKEY%3As3cret%40cos.example.com",
            "s3://b/p?endpoint=https://AKIDKEY@cos.example.com",
            // Errors that would otherwise echo the whole URL come after this check.
            "s3://b/p?colour=red&endpoint=https://AKIDKEY:s3cret@cos.example.com",
            "s3:///p?endpoint=https://AKIDKEY:s3cret@",
        ] {
            let err = invalid_url(bad);
            let shown = format!("{err}{err:?}{}", err.hint().unwrap_or(""));
            assert!(
                !shown.contains("s3cret") && !shown.contains("AKIDKEY"),
                "{shown}"
            );
        }
        // An '@' in the endpoint's path is not user info.
        "s3://b/p?endpoint=https://cos.example.com/a@b"
            .parse::<TargetSpec>()
            .unwrap();
    }
}
