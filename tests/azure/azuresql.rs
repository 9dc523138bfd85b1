//! Azure SQL Database end to end, against a local Resource Manager that
//! follows the Microsoft.Sql REST contract (`arm_contract`) and a private
//! Azurite: a backup copies the database to a staging server, exports the
//! copy as a BACPAC blob, reads it into the repository and removes the copy
//! and the blob; a restore uploads the package and imports it as a new
//! database. Failures (throttling, outages, a failed or endless export, a
//! wrong SQL login, a denied delete) leave nothing behind unsaid.

use crate::arm_contract;
use crate::azuresql_common;
use crate::azurite;
use crate::bacpac_common;
use crate::common;

use arm_contract::ArmServer;
use arm_contract::client::call;
use azuresql_common::*;
use bacpac_common::{entries, rows_by_table, shared};
use common::point_of;
use serde_json::json;
use sqlvault::storage::{AzureStorage, Storage};
use std::time::{Duration, Instant};

#[test]
fn a_backup_exports_a_staging_copy_and_leaves_nothing_behind() {
    let w = World::new();
    let out = w.backup("shop", &[]);
    out.expect_code(0);
    let report = out.json();
    let item = &report["databases"][0];
    assert_eq!(item["status"], "ok", "{report:#}");
    let point = point_of(item);

    // Copy to the staging server, export the copy (never the source),
    // delete the copy: in that order.
    let reqs = w.arm_requests();
    let (put, copy) = staging_copy(&reqs);
    let body = reqs[put].json();
    assert_eq!(body["properties"]["createMode"], "Copy", "{body:#}");
    let source = body["properties"]["sourceDatabaseId"].as_str().unwrap();
    assert!(source.eq_ignore_ascii_case(&source_id("shop")), "{source}");
    let export_path = format!("/servers/{STAGING}/databases/{copy}/export");
    let export = reqs
        .iter()
        .position(|r| is(r, "POST", &export_path))
        .unwrap_or_else(|| panic!("no export of {copy} in {reqs:#?}"));
    assert!(export > put);
    let storage_uri = reqs[export].json()["storageUri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(storage_uri.contains("/staging/"), "{storage_uri}");
    let delete = reqs
        .iter()
        .position(|r| is(r, "DELETE", &format!("/servers/{STAGING}/databases/{copy}")))
        .unwrap_or_else(|| panic!("no DELETE of {copy} in {reqs:#?}"));
    assert!(delete > export);
    assert!(
        !reqs.iter().any(|r| r.method == "POST"
            && r.path.to_ascii_lowercase().ends_with("/export")
            && r.path.contains(&format!("/servers/{SERVER}/"))),
        "the source itself was exported"
    );
    w.assert_staging_empty();
    assert_eq!(w.arm.database_names(SERVER), ["master", "shop", "orders"]);

    // The point holds the package the database held.
    let shown = w.v.run(&["--json", "show", &point]);
    shown.expect_code(0);
    w.assert_no_secrets(&shown);
    let shown = shown.json();
    assert_eq!(
        shown["source"], "azuresql://shop-sql.database.windows.net/shop",
        "{shown:#}"
    );
    let package = shared("started.bacpac");
    assert_eq!(fingerprint_rows(&shown), rows_by_table(&package));
    let to = w.s.join("restored.bacpac");
    w.v.restore(&point, &to);
    assert_eq!(entries(&to), entries(&package));

    // No secret in any output or anywhere in the repository.
    let sessions = w.v.run(&["--json", "sessions"]);
    sessions.expect_code(0);
    w.assert_no_secrets(&sessions);
    w.assert_repository_has_no_secrets();
}

#[test]
fn no_staging_exports_the_source_and_warns_about_consistency() {
    let w = World::new();
    w.arm.polls_before_done(1);
    let out = w.backup("shop", &["--no-staging"]);
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["databases"][0]["status"], "ok", "{report:#}");
    point_of(&report["databases"][0]);

    let reqs = w.arm_requests();
    assert!(
        !reqs.iter().any(|r| r.method == "PUT"),
        "a copy was made: {reqs:#?}"
    );
    assert!(
        reqs.iter().any(|r| is(
            r,
            "POST",
            &format!("/servers/{SERVER}/databases/shop/export")
        )),
        "the source was not exported: {reqs:#?}"
    );
    let said = format!(
        "{}\n{}\n{}",
        report["warnings"], report["databases"][0]["note"], out.stderr
    );
    assert!(
        said.contains("consistent only if nothing wrote"),
        "no warning: {said}"
    );
    w.assert_staging_empty();
    assert_eq!(w.arm.database_names(SERVER), ["master", "shop", "orders"]);
}

#[test]
fn throttling_and_outages_are_retried() {
    let w = World::new();
    w.arm.polls_before_done(1);
    w.arm.throttle_next(2);
    w.arm.fail_next_with_503(1);
    let out = w.backup("shop", &[]);
    out.expect_code(0);
    assert_eq!(out.json()["databases"][0]["status"], "ok");
    let statuses: Vec<u16> = w.arm_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 2);
    assert_eq!(statuses.iter().filter(|&&s| s == 503).count(), 1);
    w.assert_staging_empty();
}

#[test]
fn a_failed_export_says_why_and_removes_the_copy() {
    let w = World::new();
    w.arm.polls_before_done(1);
    let why = "The database has a schema validation error: Error SQL71564: the element [dbo].[legacy] is not supported in Azure SQL Database.";
    w.arm.fail_exports(why);
    let out = w.backup("shop", &[]);
    out.expect_code(1);
    let e = errors(&out);
    assert!(e.contains(why), "the service's message is missing:\n{e}");
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    w.assert_staging_empty();
    assert!(w.v.points().is_empty());
}

#[test]
fn a_wrong_sql_password_fails_without_showing_it() {
    let w = World::new();
    w.arm.polls_before_done(1);
    let wrong = "Wrong-Password-Heron-5521";
    let mut c = w.backup_cmd("shop", &[]);
    c.env(PW_VAR, wrong);
    let out = w.run(&mut c);
    assert!(
        [1, 3].contains(&out.code),
        "exit {}:\n{}",
        out.code,
        out.stderr
    );
    assert!(errors(&out).contains("Login failed"), "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(wrong), "the password shows:\n{text}");
    }
    w.assert_staging_empty();
}

#[test]
fn a_copy_that_cannot_be_deleted_is_named_with_how_to_remove_it() {
    let w = World::new();
    w.arm.polls_before_done(1);
    w.arm.deny("DELETE", "/databases/");
    let out = w.backup("shop", &[]);
    assert!([0, 1].contains(&out.code), "exit {}", out.code);
    let (_, copy) = staging_copy(&w.arm_requests());
    assert!(
        w.arm.database_names(STAGING).contains(&copy),
        "the copy is gone after all"
    );
    let said = format!("{}\n{}", out.stdout, out.stderr);
    for needle in ["az sql db delete", copy.as_str(), STAGING, RG] {
        assert!(said.contains(needle), "`{needle}` is not said:\n{said}");
    }
    assert_eq!(w.staging_blobs(), Vec::<String>::new());
}

#[test]
fn a_missing_database_or_server_is_named() {
    let w = World::new();
    let out = w.backup("nosuch", &[]);
    out.expect_code(1);
    assert!(errors(&out).contains("nosuch"), "{}", out.stderr);

    // Without a subscription the server is searched for, and not found.
    let mut c = w.cmd();
    c.args([
        "--json",
        "backup",
        &format!(
            "azuresql://ghost-sql.database.windows.net/shop?management={}",
            w.arm.url()
        ),
    ])
    .args(["--staging-server", STAGING])
    .args(["--staging-container", &w.staging_container()])
    .args(["--sql-login", LOGIN, "--sql-password-env", PW_VAR]);
    let out = w.run(&mut c);
    out.expect_code(1);
    assert!(errors(&out).contains("ghost-sql"), "{}", out.stderr);

    assert!(!w.arm_requests().iter().any(|r| r.method != "GET"));
    w.assert_staging_empty();
}

#[test]
fn discover_lists_the_user_databases_with_their_service_objective() {
    let w = World::new();
    w.arm.polls_before_done(0);
    w.backed_up_shop();
    let mut c = w.cmd();
    c.args([
        "--json",
        "discover",
        &format!(
            "azuresql://{SERVER}.database.windows.net/?management={}",
            w.arm.url()
        ),
    ]);
    let out = w.run(&mut c);
    out.expect_code(0);
    let rows = out
        .json()
        .as_array()
        .expect("an array of databases")
        .clone();
    let mut names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["orders", "shop"], "{rows:#?}");
    for r in &rows {
        let text = r.to_string();
        assert!(
            text.contains("S0") && text.contains("Standard"),
            "no edition or objective: {r:#}"
        );
        let protected = r["protected"].as_bool().expect("a protected flag");
        assert_eq!(protected, r["name"] == "shop", "{r:#}");
    }
    // Found through the subscriptions the identity can see.
    assert!(
        w.arm_requests()
            .iter()
            .any(|r| is(r, "GET", "/subscriptions"))
    );
}

#[test]
fn a_restore_imports_a_new_database_and_refuses_an_existing_one() {
    let w = World::new();
    w.arm.polls_before_done(0);
    let point = w.backed_up_shop();

    let out = w.restore(&point, "shop_copy");
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok", "{}", out.stdout);
    let imported = w
        .arm
        .package_of(SERVER, "shop_copy")
        .expect("shop_copy was created");
    let file = w.s.join("shop_copy.bacpac");
    std::fs::write(&file, imported).unwrap();
    assert_eq!(entries(&file), entries(&shared("started.bacpac")));
    let import = w
        .arm_requests()
        .into_iter()
        .find(|r| is(r, "POST", &format!("/servers/{SERVER}/import")))
        .expect("an import request");
    assert_eq!(import.json()["databaseName"], "shop_copy");
    w.assert_staging_empty();

    // An existing database is never overwritten: the target exists, which
    // the README's exit codes call a usage error.
    let before = w.arm.package_of(SERVER, "orders");
    let out = w.restore(&point, "orders");
    out.expect_code(2);
    assert!(errors(&out).contains("exists"), "{}", out.stderr);
    assert_eq!(w.arm.package_of(SERVER, "orders"), before);
    assert_eq!(w.staging_blobs(), Vec::<String>::new());
}

#[test]
fn an_export_that_never_finishes_times_out_and_cleans_up() {
    let w = World::new();
    w.arm.polls_before_done(0);
    // Copies and deletes still finish: only the export hangs.
    w.arm.stall_exports();
    let t0 = Instant::now();
    let out = w.backup("shop", &["--operation-timeout", "3"]);
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert_ne!(out.code, 0, "{}", out.stdout);
    let e = errors(&out).to_lowercase();
    assert!(
        e.contains("timed out") || e.contains("timeout") || e.contains("did not finish"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--operation-timeout"), "{}", out.stderr);
    w.assert_staging_empty();
}

/// The stand-in itself, over a bare socket: what the tests above rely on.
#[test]
fn the_stand_in_follows_the_arm_contract() {
    let w = World::new();
    let arm = &w.arm;
    let base = arm.url();
    let id = ("X-IDENTITY-HEADER", ArmServer::IDENTITY_HEADER);
    let token_url = format!(
        "{}?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com",
        arm.identity_endpoint()
    );
    assert_eq!(call("GET", &token_url, &[], None).status, 401);
    let t = call("GET", &token_url, &[id], None);
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.json();
    assert_eq!(t["access_token"], arm.access_token().as_str());
    let expires: i64 = t["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires > time::OffsetDateTime::now_utc().unix_timestamp() + 3000);
    let bearer = format!("Bearer {}", arm.access_token());
    let auth = [("Authorization", bearer.as_str())];
    let v = "api-version=2025-01-01";

    // The gate: token, api-version.
    let subs = format!("{base}/subscriptions?api-version=2022-12-01");
    assert_eq!(call("GET", &subs, &[], None).code(), "AuthenticationFailed");
    let wrong = [("Authorization", "Bearer nope")];
    assert_eq!(call("GET", &subs, &wrong, None).status, 401);
    let r = call("GET", &format!("{base}/subscriptions"), &auth, None);
    assert_eq!(
        (r.status, r.code()),
        (400, "MissingApiVersionParameter".into())
    );
    assert_eq!(
        call("GET", &subs, &auth, None).json()["value"][0]["subscriptionId"],
        SUB
    );

    // Resources, case-insensitively.
    let group = format!("{base}/subscriptions/{SUB}/resourcegroups/{RG}/providers/microsoft.sql");
    let r = call("GET", &format!("{group}/servers/{SERVER}?{v}"), &auth, None);
    assert_eq!(
        r.json()["properties"]["fullyQualifiedDomainName"],
        "shop-sql.database.windows.net"
    );
    let r = call(
        "GET",
        &format!("{group}/servers/{SERVER}/databases?{v}"),
        &auth,
        None,
    );
    let names: Vec<_> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names, [json!("master"), json!("shop"), json!("orders")]);
    let r = call(
        "GET",
        &format!("{group}/servers/{SERVER}/databases/nosuch?{v}"),
        &auth,
        None,
    );
    assert_eq!((r.status, r.code()), (404, "ResourceNotFound".into()));
    let r = call("GET", &format!("{group}/servers/ghost?{v}"), &auth, None);
    assert_eq!(r.status, 404);

    // A copy: checked at once, done after two "in progress" answers.
    let copy_url = format!("{group}/servers/{STAGING}/databases/shop-copy?{v}");
    let r = call("PUT", &copy_url, &auth, Some("{not json"));
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent".into()));
    let body = |mode: &str| {
        json!({"location": "westeurope", "properties": {"createMode": mode, "sourceDatabaseId": source_id("shop")}})
            .to_string()
    };
    assert_eq!(
        call("PUT", &copy_url, &auth, Some(&body("Default"))).status,
        400
    );
    let r = call("PUT", &copy_url, &auth, Some(&body("Copy")));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.header("Retry-After"), Some("1"));
    let status_url = r.header("Azure-AsyncOperation").unwrap().to_string();
    assert!(status_url.contains("/locations/westeurope/databaseAzureAsyncOperation/"));
    assert_eq!(
        call("PUT", &copy_url, &auth, Some(&body("Copy"))).status,
        409
    );
    for _ in 0..2 {
        assert_eq!(
            call("GET", &status_url, &auth, None).json()["status"],
            "InProgress"
        );
    }
    assert_eq!(
        call("GET", &status_url, &auth, None).json()["status"],
        "Succeeded"
    );
    assert!(
        arm.database_names(STAGING)
            .contains(&"shop-copy".to_string())
    );

    // An export of the copy into Azurite, polled through Location.
    let cs = w.az.connection_string();
    AzureStorage::open_with(
        &w.staging_container(),
        &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
        Default::default(),
    )
    .unwrap()
    .create()
    .unwrap();
    let blob = format!("{}/staging/shop.bacpac", w.az.endpoint());
    let export = |password: &str| {
        json!({"storageKeyType": "StorageAccessKey", "storageKey": azurite::KEY, "storageUri": blob,
               "administratorLogin": LOGIN, "administratorLoginPassword": password, "authenticationType": "Sql"})
        .to_string()
    };
    let export_url = format!("{group}/servers/{STAGING}/databases/shop-copy/export?{v}");
    assert_eq!(
        call("POST", &export_url, &auth, Some("{}")).code(),
        "MissingRequiredParameter"
    );
    arm.polls_before_done(1);
    let r = call("POST", &export_url, &auth, Some(&export(SQL_PASSWORD)));
    assert_eq!(r.status, 202, "{}", r.body);
    let result_url = r.header("Location").unwrap().to_string();
    assert!(result_url.contains("/importExportOperationResults/"));
    assert_eq!(call("GET", &result_url, &auth, None).status, 202);
    let r = call("GET", &result_url, &auth, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["properties"]["status"], "Completed", "{}", r.body);
    assert_eq!(w.staging_blobs(), ["shop.bacpac"]);
    // The same blob again: never overwritten. A wrong login: refused.
    for (password, why) in [
        (SQL_PASSWORD, "already exists"),
        ("wrong", "Login failed for user 'vaultadmin'."),
    ] {
        let r = call("POST", &export_url, &auth, Some(&export(password)));
        let url = r.header("Azure-AsyncOperation").unwrap().to_string();
        call("GET", &url, &auth, None);
        let done = call("GET", &url, &auth, None).json();
        assert_eq!(done["status"], "Failed");
        assert!(
            done["error"]["message"].as_str().unwrap().contains(why),
            "{done:#}"
        );
    }

    // An import of that blob, then a delete.
    let import = json!({"databaseName": "imported", "storageKeyType": "SharedAccessKey", "storageKey": "?sv=x",
        "storageUri": blob, "administratorLogin": LOGIN, "administratorLoginPassword": SQL_PASSWORD});
    let r = call(
        "POST",
        &format!("{group}/servers/{SERVER}/import?{v}"),
        &auth,
        Some(&import.to_string()),
    );
    let url = r.header("Location").unwrap().to_string();
    call("GET", &url, &auth, None);
    let done = call("GET", &url, &auth, None).json();
    assert_eq!(done["properties"]["requestType"], "Import");
    assert_eq!(done["properties"]["status"], "Completed", "{done:#}");
    assert_eq!(
        arm.package_of(SERVER, "imported"),
        arm.package_of(SERVER, "shop")
    );
    let r = call("DELETE", &copy_url, &auth, None);
    assert_eq!(r.status, 202);
    let url = r.header("Location").unwrap().to_string();
    assert_eq!(call("GET", &url, &auth, None).status, 202);
    assert_eq!(call("GET", &url, &auth, None).status, 204);
    assert_eq!(call("DELETE", &copy_url, &auth, None).status, 204);

    // Faults.
    arm.throttle_next(1);
    arm.fail_next_with_503(1);
    let r = call("GET", &copy_url, &auth, None);
    assert_eq!(
        (r.status, r.code(), r.header("Retry-After")),
        (429, "TooManyRequests".into(), Some("1"))
    );
    assert_eq!(call("GET", &copy_url, &auth, None).status, 503);
    arm.deny("DELETE", "/databases/");
    let r = call(
        "DELETE",
        &format!("{group}/servers/{SERVER}/databases/imported?{v}"),
        &auth,
        None,
    );
    assert_eq!((r.status, r.code()), (403, "AuthorizationFailed".into()));
    assert!(
        r.body.contains("Microsoft.Sql/servers/databases/delete"),
        "{}",
        r.body
    );
    assert!(arm.requests().iter().all(|r| r.status != 0));
}
