//! Azure repositories when things go wrong: a backup killed mid-upload,
//! the service gone or back after a short outage, wrong or expired
//! credentials. Errors are one line with a documented exit code, secrets
//! never show, and no restore point is ever half-visible.

use crate::azurite;
use crate::azurite_cli;
use crate::common;

use azurite::Azurite;
use azurite_cli::*;
use base64::Engine as _;
use common::*;
use hmac::Mac as _;
use std::time::Duration;

#[test]
fn kill_9_mid_upload_leaves_a_valid_repository() {
    let az = Azurite::start();
    let s = Scratch::new();
    let small = s.join("small.db");
    make_fixture(&small, "wal", 3);
    let big = s.join("big.db");
    make_blob_db(&big, "wal", 80 << 20, 4);
    let expected = fingerprint(&big);
    let vault = AzVault::new(&s, &az, "crash");
    vault.run(&["init"]).expect_code(0);
    let before = vault.backup_one(&small);

    let mut child = vault.spawn_backup(&big, &[]);
    wait_for_pack(&storage(&az, "crash"), &mut child);
    // SAFETY: signalling our own child, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();

    vault.verify_ok();
    let pts = vault.points();
    assert_eq!(pts.len(), 1, "a half-written point is visible: {pts:?}");
    let r = s.join("before.db");
    vault.restore(&before, &r);
    let p = vault.backup_one(&big);
    let r = s.join("big-restored.db");
    vault.restore(&p, &r);
    assert_same_db(&r, &expected);
}

#[test]
fn storage_gone_mid_backup_fails_cleanly_and_the_next_backup_works() {
    let mut az = Azurite::start();
    let s = Scratch::new();
    let big = s.join("big.db");
    make_blob_db(&big, "wal", 80 << 20, 5);
    let expected = fingerprint(&big);
    let vault = AzVault::new(&s, &az, "outage");
    vault.run(&["init"]).expect_code(0);

    let mut child = vault.spawn_backup(&big, &[("SQLVAULT_AZURE_RETRY_SECONDS", "2")]);
    wait_for_pack(&storage(&az, "outage"), &mut child);
    az.stop();
    let out = output(child);
    // A database whose backup the storage failed: exit 5, as the README's
    // table says for an endpoint failing after retries, with the error.
    assert_eq!(
        out.code, 5,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot reach the storage service"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(azurite::KEY));
    assert!(!out.stdout.contains(azurite::KEY));
    let report = out.json();
    assert_eq!(report["status"], "failed", "{report:#}");

    az.restart();
    assert!(vault.points().is_empty(), "a half-written point is visible");
    vault.verify_ok();
    let p = vault.backup_one(&big);
    let r = s.join("restored.db");
    vault.restore(&p, &r);
    assert_same_db(&r, &expected);
}

#[test]
fn retries_carry_a_backup_through_a_short_outage() {
    let mut az = Azurite::start();
    let s = Scratch::new();
    let big = s.join("big.db");
    make_blob_db(&big, "wal", 80 << 20, 12);
    let expected = fingerprint(&big);
    let vault = AzVault::new(&s, &az, "blip");
    vault.run(&["init"]).expect_code(0);

    let mut child = vault.spawn_backup(&big, &[("SQLVAULT_AZURE_RETRY_SECONDS", "60")]);
    wait_for_pack(&storage(&az, "blip"), &mut child);
    az.stop();
    std::thread::sleep(Duration::from_secs(1));
    az.restart();
    let out = output(child);
    out.expect_code(0);
    let p = point_of(&out.json()["databases"][0]);
    vault.verify_ok();
    let r = s.join("restored.db");
    vault.restore(&p, &r);
    assert_same_db(&r, &expected);
}

#[test]
fn service_unreachable_is_a_storage_error_with_one_line() {
    let mut az = Azurite::start();
    az.stop();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 6);
    let mut vault = AzVault::new(&s, &az, "gone");
    vault.env.push(("SQLVAULT_AZURE_RETRY_SECONDS", "1".into()));
    let out = vault.run(&["init"]);
    out.expect_code(5);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
}

#[test]
fn wrong_key_is_an_auth_error_and_the_key_is_never_shown() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 7);
    AzVault::new(&s, &az, "keys").run(&["init"]).expect_code(0);
    let wrong = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    for env in [
        vec![(
            "AZURE_STORAGE_CONNECTION_STRING",
            az.connection_string().replace(azurite::KEY, &wrong),
        )],
        vec![
            ("AZURE_STORAGE_KEY", wrong.clone()),
            ("AZURE_STORAGE_BLOB_ENDPOINT", az.endpoint()),
        ],
    ] {
        let vault = AzVault::with_env(&s, az.url("keys"), env);
        let out = run(vault.cmd().arg("backup").arg(&db));
        out.expect_code(3);
        assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
        assert!(!out.stderr.contains(&wrong) && !out.stdout.contains(&wrong));
        assert!(out.stderr.contains("refused access"), "{}", out.stderr);
    }
}

/// An account SAS for Azurite (service b, all resource types), signed with
/// the development key.
fn account_sas(expiry: &str) -> String {
    let (sv, ss, srt, sp, spr) = ("2019-12-12", "b", "sco", "rwdlac", "https,http");
    let to_sign = format!(
        "{}\n{sp}\n{ss}\n{srt}\n\n{expiry}\n\n{spr}\n{sv}\n",
        azurite::ACCOUNT
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(azurite::KEY)
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig: String = url::form_urlencoded::byte_serialize(sig.as_bytes()).collect();
    format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&se={expiry}&spr={spr}&sig={sig}")
}

#[test]
fn sas_token_works_and_an_expired_one_is_an_auth_error() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 9);
    let sas_env = |sas: String| {
        vec![
            ("AZURE_STORAGE_SAS_TOKEN", sas),
            ("AZURE_STORAGE_BLOB_ENDPOINT", az.endpoint()),
        ]
    };
    let good = account_sas("2099-01-01T00:00:00Z");
    let vault = AzVault::with_env(&s, az.url("sas"), sas_env(good.clone()));
    vault.run(&["init"]).expect_code(0);
    vault.backup_one(&db);

    let expired = account_sas("2020-01-01T00:00:00Z");
    let vault = AzVault::with_env(&s, az.url("sas"), sas_env(expired.clone()));
    let out = run(vault.cmd().arg("backup").arg(&db));
    out.expect_code(3);
    let sig = expired.split("sig=").nth(1).unwrap();
    assert!(
        !out.stderr.contains(sig) && !out.stdout.contains(sig),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("AZURE_STORAGE_SAS_TOKEN"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_credentials_for_a_plain_http_endpoint_is_a_usage_error() {
    let az = Azurite::start();
    let s = Scratch::new();
    let url = format!("{}?endpoint={}", az.url("nocreds"), az.endpoint());
    let vault = AzVault::with_env(&s, url, vec![]);
    let out = vault.run(&["init"]);
    out.expect_code(2);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("AZURE_STORAGE_CONNECTION_STRING"),
        "{}",
        out.stderr
    );
}

/// A loopback proxy in front of Azurite that cuts the first `cuts`
/// connections once `after` bytes of responses went through them: a
/// response that ends mid-body, as a dropped connection gives.
fn cutting_proxy(upstream: u16, after: u64, cuts: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let left = Arc::new(AtomicUsize::new(cuts));
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(Shutdown::Write);
            });
            let left = left.clone();
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut sent = 0u64;
                let mut buf = vec![0u8; 16 << 10];
                loop {
                    let n = match s_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    sent += n as u64;
                    if sent > after
                        && left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(1))
                            .is_ok()
                    {
                        let _ = c_out.write_all(&buf[..n / 2]);
                        let _ = c_out.shutdown(Shutdown::Both);
                        let _ = s_in.shutdown(Shutdown::Both);
                        return;
                    }
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_out.shutdown(Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn a_response_cut_off_mid_body_is_fetched_again() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("db.db");
    make_blob_db(&db, "wal", 12 << 20, 14);
    let expected = fingerprint(&db);
    let vault = AzVault::new(&s, &az, "cutoff");
    vault.run(&["init"]).expect_code(0);
    let p = vault.backup_one(&db);

    let proxy = cutting_proxy(az.port, 256 << 10, 3);
    let via = AzVault::with_env(
        &s,
        az.url("cutoff"),
        vec![(
            "AZURE_STORAGE_CONNECTION_STRING",
            az.connection_string().replace(
                &format!("127.0.0.1:{}/", az.port),
                &format!("127.0.0.1:{proxy}/"),
            ),
        )],
    );
    let r = s.join("restored.db");
    let out = via.run(&["--json", "restore", &p, "--to", r.to_str().unwrap()]);
    out.expect_code(0);
    assert_same_db(&r, &expected);
}
