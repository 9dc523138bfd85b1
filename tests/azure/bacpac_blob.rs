//! A package exported into Azure Storage (as the portal and SqlPackage can
//! do) backed up straight from its blob, on a private Azurite: read with
//! ranged requests, never copied to a local file, and restored identical.

use crate::azurite;
use crate::bacpac_common;
use crate::common;

use azurite::Azurite;
use bacpac_common::{entries, rows_by_table, shared};
use common::{Scratch, Vault, point_of, run};
use sqlvault::storage::{AzureStorage, Storage};

fn container(az: &Azurite, name: &str) -> AzureStorage {
    let cs = az.connection_string();
    let s = AzureStorage::open_with(
        &az.url(name),
        &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
        Default::default(),
    )
    .unwrap();
    s.create().unwrap();
    s
}

#[test]
fn a_package_in_a_blob_is_backed_up_without_a_local_copy() {
    let az = Azurite::start();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let exports = container(&az, "exports");
    let nw = shared("started.bacpac");
    exports
        .put_if_absent("2026-12/started.bacpac", &std::fs::read(&nw).unwrap())
        .unwrap();
    let url = az.url("exports/2026-12/started.bacpac");

    let mut c = v.cmd();
    c.env("AZURE_STORAGE_CONNECTION_STRING", az.connection_string())
        .args(["--json", "backup", &url]);
    let out = run(&mut c);
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["status"], "ok", "{item:#}");
    assert!(
        !out.stdout.contains(azurite::KEY) && !out.stderr.contains(azurite::KEY),
        "the account key shows"
    );
    // Nothing was spooled to a local file on the way.
    assert_eq!(
        common::files_under(&s.tmpdir()),
        Vec::<std::path::PathBuf>::new()
    );

    let point = point_of(item);
    let shown = v.run(&["--json", "show", &point]);
    shown.expect_code(0);
    let shown = shown.json();
    assert_eq!(shown["source"], url.as_str());
    let rows: u64 = shown["fingerprints"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, rows_by_table(&nw).values().sum::<u64>());
    let to = s.join("started.bacpac");
    v.restore(&point, &to);
    assert_eq!(entries(&to), entries(&nw));

    // A blob that is not there: exit 1, naming it.
    let mut c = v.cmd();
    c.env("AZURE_STORAGE_CONNECTION_STRING", az.connection_string())
        .args(["backup", &az.url("exports/2026-12/nope.bacpac")]);
    let out = run(&mut c);
    out.expect_code(1);
    assert!(
        out.stderr.contains("nope.bacpac` does not exist"),
        "{}",
        out.stderr
    );
}
