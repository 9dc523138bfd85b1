//! Azure SQL from a policy (`engine = "azuresql"`, auto-protection through
//! the server's database list), a server located by --subscription and
//! --resource-group, and a backup stopped by a signal while the export
//! runs: the staging copy and blob are removed all the same.

use crate::azuresql_common;
use crate::common;

use azuresql_common::*;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn a_policy_source_auto_protects_the_databases_of_a_server() {
    let w = World::new();
    w.arm.polls_before_done(0);
    let policy = w.s.join("azure.toml");
    let server_url = w.url(SERVER, "");
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{repo}"
password-env = "SQLVAULT_PASSWORD"

[[source]]
name = "shop-sql"
engine = "azuresql"
url = "{server_url}"
auto-protect = true
exclude = ["orders"]
staging-server = "{STAGING}"
staging-container = "{container}"
sql-login = "{LOGIN}"
sql-password-env = "{PW_VAR}"
operation-timeout = 600

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}

[retention]
daily = 7
"#,
            repo = w.v.repo.display(),
            container = w.staging_container(),
        ),
    )
    .unwrap();
    let checked = w.run(w.cmd().args(["policy", "check", policy.to_str().unwrap()]));
    checked.expect_code(0);

    let out = w.run(
        w.cmd()
            .args(["--json", "backup", "--policy", policy.to_str().unwrap()]),
    );
    out.expect_code(0);
    let report = out.json();
    let items = report["databases"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["database"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop"], "{report:#}");
    assert_eq!(items[0]["status"], "ok", "{report:#}");
    w.assert_staging_empty();
    w.assert_repository_has_no_secrets();

    // A key of another engine is refused, naming it.
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("operation-timeout = 600", "jobs = 4")).unwrap();
    let bad = w.run(w.cmd().args(["policy", "check", policy.to_str().unwrap()]));
    bad.expect_code(2);
    assert!(bad.stderr.contains("jobs"), "{}", bad.stderr);
}

#[test]
fn a_signal_during_the_export_still_removes_the_staging_copy() {
    let w = World::new();
    w.arm.polls_before_done(0);
    w.arm.stall_exports();
    let child = w
        .backup_cmd("shop", &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !w
        .arm_requests()
        .iter()
        .any(|r| r.method == "POST" && r.path.ends_with("/export"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the export never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = common::Out::from_output(child.wait_with_output().unwrap());
    w.assert_no_secrets(&out);
    out.expect_code(130);
    w.assert_staging_empty();
}

#[test]
fn subscription_and_resource_group_flags_locate_the_server_directly() {
    let w = World::new();
    w.arm.polls_before_done(0);
    let bare = format!(
        "azuresql://{SERVER}.database.windows.net/shop?management={}",
        w.arm.url()
    );
    let out = w.run(
        w.cmd()
            .args(["--json", "backup", &bare, "--staging-server", STAGING])
            .args(["--staging-container", &w.staging_container()])
            .args(["--sql-login", LOGIN, "--sql-password-env", PW_VAR])
            .args(["--subscription", SUB, "--resource-group", RG]),
    );
    out.expect_code(0);
    assert_eq!(out.json()["databases"][0]["status"], "ok", "{}", out.stdout);
    // Straight to the server: no listing of subscriptions or servers.
    let lists: Vec<String> = w
        .arm_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase().ends_with("/servers"))
        .chain(
            w.arm_requests()
                .iter()
                .filter(|r| r.path == "/subscriptions"),
        )
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(lists, Vec::<String>::new());
    w.assert_staging_empty();
}

#[test]
fn a_managed_identity_replaces_the_sql_login() {
    let w = World::new();
    w.arm.polls_before_done(0);
    let identity = format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/sqlvault-export"
    );
    let backup = |w: &World| {
        w.run(
            w.cmd()
                .args(["--json", "backup", &w.url(SERVER, "shop")])
                .args(["--staging-server", STAGING])
                .args(["--staging-container", &w.staging_container()])
                .args(["--sql-managed-identity", &identity]),
        )
    };
    // Not assigned to the staging server yet: the service says so.
    let refused = backup(&w);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("is not assigned to server"),
        "{}",
        refused.stderr
    );
    w.assert_staging_empty();

    w.arm.assign_identity(STAGING, &identity);
    let out = backup(&w);
    out.expect_code(0);
    assert_eq!(out.json()["databases"][0]["status"], "ok", "{}", out.stdout);
    let export = w
        .arm_requests()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path.ends_with("/export"))
        .expect("an export");
    let body = export.json();
    assert_eq!(body["authenticationType"], "ManagedIdentity", "{body:#}");
    assert_eq!(body["administratorLogin"], identity.as_str(), "{body:#}");
    assert!(body.get("administratorLoginPassword").is_none(), "{body:#}");
    w.assert_staging_empty();
}

#[test]
fn a_missing_permission_names_the_action_and_the_role() {
    let w = World::new();
    w.arm.polls_before_done(0);
    w.arm.deny("PUT", "/databases/");
    let out = w.backup("shop", &[]);
    // One database of a backup failed: 1, its kind says why.
    out.expect_code(1);
    assert_eq!(
        out.json()["databases"][0]["error_kind"],
        "auth",
        "{}",
        out.stdout
    );
    let said = &out.stderr;
    assert!(said.contains("not allowed to"), "{said}");
    assert!(said.contains("Microsoft.Sql/servers/databases"), "{said}");
    assert!(said.contains("SQL Server Contributor"), "{said}");
    w.assert_staging_empty();
}

#[test]
fn a_restore_to_azure_sql_is_not_dispatched_to_workers() {
    let w = World::new();
    let out = w.run(w.cmd().args([
        "restore",
        "latest",
        "--to",
        &w.url(SERVER, "shop_copy"),
        "--dispatch",
        "azure-queue://devstoreaccount1/jobs",
    ]));
    out.expect_code(2);
    assert!(out.stderr.contains("--dispatch"), "{}", out.stderr);
    assert!(w.arm_requests().is_empty());
}
