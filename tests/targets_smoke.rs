//! Every kind of target reached through OpenDAL: a local folder, a real S3 server and real
//! WebDAV servers (anonymous and with basic auth), all on 127.0.0.1.
mod common;

use chatvault::crypto::secret::Secret;
use chatvault::target::{probe, TargetCredentials, TargetSpec};
use chatvault::ErrorCode;
use opendal::Operator;

async fn write_read_list_delete(op: &Operator) {
    let dir = format!("smoke-{}/", std::process::id());
    let a = format!("{dir}a.bin");
    let b = format!("{dir}b.bin");
    let body: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    op.write(&a, body.clone()).await.unwrap();
    op.write(&b, b"second".to_vec()).await.unwrap();

    assert_eq!(op.read(&a).await.unwrap().to_vec(), body);
    assert_eq!(op.stat(&b).await.unwrap().content_length(), 6);

    let mut names: Vec<String> = op
        .list(&dir)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.path().to_string())
        .filter(|p| p != &dir) // fs and WebDAV list the folder itself, S3 does not
        .collect();
    names.sort();
    assert_eq!(names, vec![a.clone(), b.clone()]);

    op.delete(&a).await.unwrap();
    op.delete(&b).await.unwrap();
    assert!(!op.exists(&a).await.unwrap());
    assert!(op.read(&a).await.is_err());
    let report = probe(op).await.unwrap();
    assert!(report.read_back && report.listed && report.deleted);
}

#[test]
fn local_folder() {
    let dir = tempfile::tempdir().unwrap();
    let spec: TargetSpec = format!("file://{}", dir.path().display()).parse().unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    common::runtime().block_on(write_read_list_delete(&op));
}

#[test]
fn s3_server() {
    let Some(endpoint) = common::service_env("CHATVAULT_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = common::service_env("CHATVAULT_TEST_S3_BUCKET").unwrap();
    let url = format!(
        "s3://{bucket}/smoke?endpoint={}&region=us-east-1",
        url::form_urlencoded::byte_serialize(endpoint.as_bytes()).collect::<String>()
    );
    let spec: TargetSpec = url.parse().unwrap();
    let creds = TargetCredentials::from_env(|k| std::env::var(k).ok());
    let op = spec.operator(&creds).unwrap();
    common::runtime().block_on(write_read_list_delete(&op));
}

#[test]
fn s3_without_credentials_is_an_auth_error_with_hint() {
    let spec: TargetSpec = "s3://bucket/x?endpoint=http://127.0.0.1:9".parse().unwrap();
    let err = spec.operator(&TargetCredentials::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TargetAuth);
    assert!(err.hint().unwrap().contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn webdav_server_anonymous() {
    let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_URL") else {
        return;
    };
    let spec: TargetSpec = url.parse().unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    common::runtime().block_on(write_read_list_delete(&op));
}

#[test]
fn webdav_server_with_basic_auth() {
    let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_URL") else {
        return;
    };
    let password = common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_PASSWORD").unwrap();
    let spec: TargetSpec = url.parse().unwrap();
    let creds = TargetCredentials {
        password: Some(Secret::new(password)),
        ..Default::default()
    };
    let op = spec.operator(&creds).unwrap();
    common::runtime().block_on(write_read_list_delete(&op));
}

#[test]
fn webdav_wrong_password_is_an_auth_error_without_the_password() {
    let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_URL") else {
        return;
    };
    let spec: TargetSpec = url.parse().unwrap();
    let creds = TargetCredentials {
        password: Some(Secret::new("not-the-password".into())),
        ..Default::default()
    };
    let op = spec.operator(&creds).unwrap();
    let err = common::runtime().block_on(probe(&op)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TargetAuth, "{err}");
    assert!(!err.to_string().contains("not-the-password"));
}

#[test]
fn unreachable_server_is_reported_as_unreachable() {
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let spec: TargetSpec = "webdav+http://127.0.0.1:9/x".parse().unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    let err = common::runtime().block_on(probe(&op)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TargetUnreachable, "{err}");
}

#[test]
fn https_to_a_plain_http_server_is_a_tls_error() {
    let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_URL") else {
        return;
    };
    let spec: TargetSpec = url
        .replacen("webdav+http://", "webdav+https://", 1)
        .parse()
        .unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    let err = common::runtime().block_on(probe(&op)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TargetTls, "{err}");
    assert!(err.hint().unwrap().contains("https://"));
}

#[test]
fn an_unknown_host_name_is_unreachable_with_a_dns_hint() {
    // .invalid never resolves (RFC 6761).
    let spec: TargetSpec = "webdav+https://chatvault-test.invalid/x".parse().unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    let err = common::runtime().block_on(probe(&op)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TargetUnreachable, "{err}");
}
