//! The CLI against Azure Blob Storage (a private Azurite): the same commands
//! and guarantees as with a local repository, and clear errors when the
//! service is gone, the credentials are wrong or the container is missing.

mod azurite;
mod common;

use azurite::Azurite;
use base64::Engine as _;
use common::*;
use hmac::Mac as _;
use sqlvault::storage::{AzureStorage, Storage};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A repository in Azurite, opened by the binary with `env` as credentials.
struct AzVault {
    v: Vault,
    env: Vec<(&'static str, String)>,
}

impl AzVault {
    fn new(scratch: &Scratch, az: &Azurite, container: &str) -> AzVault {
        AzVault::with_env(
            scratch,
            az.url(container),
            vec![("AZURE_STORAGE_CONNECTION_STRING", az.connection_string())],
        )
    }

    fn with_env(scratch: &Scratch, url: String, env: Vec<(&'static str, String)>) -> AzVault {
        AzVault {
            v: Vault {
                repo: url.into(),
                home: scratch.home(),
                password: Some(PASSWORD.to_string()),
            },
            env,
        }
    }

    fn cmd(&self) -> Command {
        let mut c = self.v.cmd();
        for (k, val) in &self.env {
            c.env(k, val);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        run(self.cmd().args(args))
    }

    #[track_caller]
    fn backup_one(&self, db: &Path) -> String {
        let out = run(self.cmd().arg("--json").arg("backup").arg(db));
        out.expect_code(0);
        point_of(&out.json()["databases"][0])
    }

    #[track_caller]
    fn restore(&self, point: &str, to: &Path) {
        run(self
            .cmd()
            .args(["--json", "restore", point, "--to"])
            .arg(to))
        .expect_code(0);
    }

    fn points(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["--json", "points"]);
        out.expect_code(0);
        out.json().as_array().unwrap().clone()
    }

    #[track_caller]
    fn verify_ok(&self) {
        let out = self.run(&["--json", "verify"]);
        out.expect_code(0);
        assert_eq!(out.json()["status"], "ok", "{}", out.stdout);
    }

    fn spawn_backup(&self, db: &Path, extra_env: &[(&str, &str)]) -> Child {
        let mut c = self.cmd();
        c.arg("--json").arg("backup").arg(db);
        for (k, v) in extra_env {
            c.env(k, v);
        }
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap()
    }
}

/// The test's own view of a container, to watch what the binary writes.
fn storage(az: &Azurite, container: &str) -> AzureStorage {
    let cs = az.connection_string();
    AzureStorage::open_with(
        &az.url(container),
        &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
        Default::default(),
    )
    .unwrap()
}

/// Wait until the first pack is in the container (the backup is uploading).
fn wait_for_pack(s: &AzureStorage, child: &mut Child) {
    let t0 = Instant::now();
    loop {
        if !s.list("packs/").map(|l| l.is_empty()).unwrap_or(true) {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "backup ended before uploading a pack"
        );
        assert!(t0.elapsed() < Duration::from_secs(60), "no pack uploaded");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn output(child: Child) -> Out {
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn init_backup_restore_verify_end_to_end() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 1);
    let expected = fingerprint(&db);
    let vault = AzVault::new(&s, &az, "backups/prod/app");
    let out = vault.run(&["init"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("azure://devstoreaccount1/backups/prod/app"),
        "{}",
        out.stdout
    );
    assert!(storage(&az, "backups/prod/app").exists("config").unwrap());
    // The container is shared: a second repository beside the first.
    AzVault::new(&s, &az, "backups/other")
        .run(&["init"])
        .expect_code(0);

    let p1 = vault.backup_one(&db);
    {
        let mut c = open(&db);
        add_fixture_rows(&mut c, 2, 10_000, 10_500);
    }
    let expected2 = fingerprint(&db);
    let p2 = vault.backup_one(&db);
    assert_eq!(vault.points().len(), 2);

    let r1 = s.join("r1.db");
    vault.restore(&p1, &r1);
    assert_same_db(&r1, &expected);
    let r2 = s.join("r2.db");
    vault.restore(&p2, &r2);
    assert_same_db(&r2, &expected2);
    let out = vault.run(&["--json", "verify", "--restore"]);
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok");
    let out = vault.run(&["--json", "sessions"]);
    out.expect_code(0);
    assert!(out.stdout.contains("backup"), "{}", out.stdout);
    // Nothing of the repository leaks outside its prefix.
    let stray = storage(&az, "backups").list("").unwrap();
    assert!(
        stray
            .iter()
            .all(|o| o.name.starts_with("prod/app/") || o.name.starts_with("other/")),
        "{stray:?}"
    );
}

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
    // A database whose backup failed: exit 1, with the storage error.
    assert_eq!(
        out.code, 1,
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

#[test]
fn missing_container_backup_says_to_run_init() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 8);
    let vault = AzVault::new(&s, &az, "never-created");
    let out = run(vault.cmd().arg("backup").arg(&db));
    out.expect_code(4);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("sqlvault init"), "{}", out.stderr);
    // init creates it, then the backup works.
    vault.run(&["init"]).expect_code(0);
    vault.backup_one(&db);
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
fn access_tier_applies_to_packs_and_archived_points_are_rehydrated() {
    let az = Azurite::start();
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "wal", 10);
    let expected = fingerprint(&db);

    let cool = AzVault::new(&s, &az, "tiers/cool?tier=cool");
    cool.run(&["init"]).expect_code(0);
    cool.backup_one(&db);
    let st = storage(&az, "tiers/cool");
    let packs = st.list("packs/").unwrap();
    assert!(!packs.is_empty());
    for p in &packs {
        assert_eq!(st.access_tier(&p.name).unwrap().as_deref(), Some("Cool"));
    }
    // The objects every backup reads stay in the account's default tier.
    assert_ne!(st.access_tier("config").unwrap().as_deref(), Some("Cool"));

    let arch = AzVault::new(&s, &az, "tiers/archive?tier=archive");
    arch.run(&["init"]).expect_code(0);
    let point = arch.backup_one(&db);
    // Backups and listings still work; restoring needs a rehydration.
    assert_eq!(arch.points().len(), 1);
    let target = s.join("restored.db");
    let out = run(arch.cmd().args(["restore", &point, "--to"]).arg(&target));
    out.expect_code(4);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("Archive access tier"), "{}", out.stderr);
    assert!(out.stderr.contains("sqlvault rehydrate"), "{}", out.stderr);
    assert!(!target.exists());

    let out = run(arch
        .cmd()
        .env("SQLVAULT_REHYDRATE_POLL_SECONDS", "1")
        .args([
            "--json",
            "rehydrate",
            &point[..8],
            "--priority",
            "high",
            "--wait",
        ]));
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["rehydrating"], 0, "{r:#}");
    assert_eq!(r["online"], r["objects"], "{r:#}");
    arch.restore(&point, &target);
    assert_same_db(&target, &expected);
}

#[test]
fn policy_runs_and_archives_into_azure_repositories() {
    let az = Azurite::start();
    let s = Scratch::new();
    let dbs = s.join("dbs");
    std::fs::create_dir_all(&dbs).unwrap();
    make_fixture(&dbs.join("a.db"), "wal", 11);
    let expected = fingerprint(&dbs.join("a.db"));
    let primary = AzVault::new(&s, &az, "pol/primary");
    primary.run(&["init"]).expect_code(0);
    let archive = AzVault::new(&s, &az, "pol/archive");
    archive.run(&["init"]).expect_code(0);
    let policy = s.join("p.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{primary}"
password-env = "SQLVAULT_PASSWORD"

[archive]
path = "{archive}"
tier = "cold"
after-days = 0
password-env = "SQLVAULT_PASSWORD"

[[source]]
name = "local"
engine = "sqlite"
databases = ["{db}"]

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}

[retention]
daily = 7
"#,
            primary = az.url("pol/primary"),
            archive = az.url("pol/archive"),
            db = dbs.join("a.db").display()
        ),
    )
    .unwrap();
    let policy_run = |cmd: &str| run(primary.cmd().args(["--json", cmd, "--policy"]).arg(&policy));
    run(primary.cmd().args(["policy", "check"]).arg(&policy)).expect_code(0);
    policy_run("run").expect_code(0);
    assert_eq!(primary.points().len(), 1);
    // prune takes the repository lock exclusively (a blob lease) and keeps
    // today's point.
    policy_run("prune").expect_code(0);
    assert_eq!(primary.points().len(), 1);
    policy_run("archive").expect_code(0);
    assert!(primary.points().is_empty(), "moved out of the primary");
    let moved = archive.points();
    assert_eq!(moved.len(), 1);
    let st = storage(&az, "pol/archive");
    for p in st.list("packs/").unwrap() {
        assert_eq!(st.access_tier(&p.name).unwrap().as_deref(), Some("Cold"));
    }
    let target = s.join("from-archive.db");
    archive.restore(moved[0]["id"].as_str().unwrap(), &target);
    assert_same_db(&target, &expected);
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
