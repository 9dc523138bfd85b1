//! The CLI against Azure Blob Storage (a private Azurite): the same commands
//! and guarantees as with a local repository, access tiers and rehydration,
//! and policies naming Azure repositories.

use crate::azurite;
use crate::azurite_cli;
use crate::common;

use azurite::Azurite;
use azurite_cli::*;
use common::*;
use sqlvault::storage::Storage;

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
