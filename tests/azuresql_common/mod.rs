//! The world the Azure SQL tests run in: a private Azurite, the local
//! Resource Manager (`arm_contract`) with a source server, a staging server
//! and a server in another subscription, and a repository; with the
//! checks that no secret shows or is stored.
#![allow(dead_code)]

use super::arm_contract::{ArmServer, Request};
use super::azurite::{self, Azurite};
use super::bacpac_common::shared;
use super::common::{self, Out, Scratch, Vault, point_of};
use serde_json::Value;
use sqlvault::storage::{AzureStorage, Storage, StorageError};
use std::collections::BTreeMap;
use std::process::Command;

pub const SUB: &str = "6c1f4a7e-2b0d-4f3a-9e58-1d2c3b4a5f60";
pub const RG: &str = "rg-shop";
pub const SERVER: &str = "shop-sql";
pub const STAGING: &str = "shop-staging";
pub const LOGIN: &str = "vaultadmin";
pub const SQL_PASSWORD: &str = "Kestrel-umber-3317-sqladmin-PW";
pub const PW_VAR: &str = "SHOP_SQL_PASSWORD";

/// Azurite, the ARM stand-in with a source server (`shop` and `orders`), a
/// staging server in the same resource group and a server in another
/// subscription, and a repository.
pub struct World {
    pub az: Azurite,
    pub arm: ArmServer,
    pub s: Scratch,
    pub v: Vault,
}

impl World {
    pub fn new() -> World {
        let az = Azurite::start();
        let arm = ArmServer::start(&az.connection_string());
        arm.add_server(SUB, RG, SERVER, LOGIN, SQL_PASSWORD);
        arm.add_server(SUB, RG, STAGING, LOGIN, SQL_PASSWORD);
        arm.add_server(
            "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
            "rg-other",
            "other-sql",
            "otheradmin",
            "Other-Password-1",
        );
        arm.add_database(SERVER, "shop", &shared("started.bacpac"));
        arm.add_database(SERVER, "orders", &shared("northwind.bacpac"));
        let s = Scratch::new();
        let v = Vault::init(&s, s.join("repo"));
        World { az, arm, s, v }
    }

    /// `azuresql://SERVER.database.windows.net/DB` with where to find it.
    pub fn url(&self, server: &str, db: &str) -> String {
        format!(
            "azuresql://{server}.database.windows.net/{db}?subscription={SUB}&resource-group={RG}&management={}",
            self.arm.url()
        )
    }

    pub fn staging_container(&self) -> String {
        self.az.url("staging")
    }

    /// The repository's command with the managed identity, the storage
    /// account and the SQL password in its environment.
    pub fn cmd(&self) -> Command {
        let mut c = self.v.cmd();
        c.env("IDENTITY_ENDPOINT", self.arm.identity_endpoint())
            .env("IDENTITY_HEADER", ArmServer::IDENTITY_HEADER)
            .env(
                "AZURE_STORAGE_CONNECTION_STRING",
                self.az.connection_string(),
            )
            .env(PW_VAR, SQL_PASSWORD);
        c
    }

    pub fn run(&self, c: &mut Command) -> Out {
        let out = common::run(c);
        self.assert_no_secrets(&out);
        out
    }

    /// `backup` of `SERVER/db` through the staging server, plus `extra`.
    pub fn backup_cmd(&self, db: &str, extra: &[&str]) -> Command {
        let mut c = self.cmd();
        c.args(["--json", "backup", &self.url(SERVER, db)]);
        // The two ways to get a consistent view exclude each other.
        if !extra.contains(&"--no-staging") {
            c.args(["--staging-server", STAGING]);
        }
        c.args(["--staging-container", &self.staging_container()])
            .args(["--sql-login", LOGIN, "--sql-password-env", PW_VAR])
            .args(extra);
        c
    }

    pub fn backup(&self, db: &str, extra: &[&str]) -> Out {
        self.run(&mut self.backup_cmd(db, extra))
    }

    /// Back up `SERVER/shop` and return its restore point.
    #[track_caller]
    pub fn backed_up_shop(&self) -> String {
        let out = self.backup("shop", &[]);
        out.expect_code(0);
        let item = &out.json()["databases"][0];
        assert_eq!(item["status"], "ok", "{item:#}");
        point_of(item)
    }

    pub fn restore(&self, point: &str, db: &str) -> Out {
        let mut c = self.cmd();
        c.args(["--json", "restore", point, "--to", &self.url(SERVER, db)])
            .args(["--staging-container", &self.staging_container()])
            .args(["--sql-login", LOGIN, "--sql-password-env", PW_VAR]);
        self.run(&mut c)
    }

    /// What must never be shown or stored: the SQL password, the storage
    /// account key, the bearer token.
    pub fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("the SQL password", SQL_PASSWORD.to_string()),
            ("the storage account key", azurite::KEY.to_string()),
            ("the bearer token", self.arm.access_token()),
        ]
    }

    #[track_caller]
    pub fn assert_no_secrets(&self, out: &Out) {
        for (what, secret) in self.secrets() {
            for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(!text.contains(&secret), "{what} appears in {name}:\n{text}");
            }
        }
    }

    #[track_caller]
    pub fn assert_repository_has_no_secrets(&self) {
        for (what, secret) in self.secrets() {
            let files = common::files_containing(&self.v.repo, secret.as_bytes());
            assert!(files.is_empty(), "{what} is stored in {files:?}");
        }
    }

    /// The blobs left in the staging container (none when it is missing).
    pub fn staging_blobs(&self) -> Vec<String> {
        let cs = self.az.connection_string();
        let c = AzureStorage::open_with(
            &self.staging_container(),
            &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
            Default::default(),
        )
        .unwrap();
        match c.list("") {
            Ok(objects) => objects.into_iter().map(|o| o.name).collect(),
            Err(StorageError::ContainerMissing(_)) => Vec::new(),
            Err(e) => panic!("list the staging container: {e}"),
        }
    }

    /// The requests that went to Resource Manager (not for tokens).
    pub fn arm_requests(&self) -> Vec<Request> {
        self.arm
            .requests()
            .into_iter()
            .filter(Request::is_arm)
            .collect()
    }

    #[track_caller]
    pub fn assert_staging_empty(&self) {
        assert_eq!(self.arm.database_names(STAGING), ["master"]);
        assert_eq!(self.staging_blobs(), Vec::<String>::new());
    }
}

pub fn source_id(db: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Sql/servers/{SERVER}/databases/{db}"
    )
}

/// `method` on a path ending in `suffix` (ARM paths are case-insensitive).
pub fn is(r: &Request, method: &str, suffix: &str) -> bool {
    r.method == method
        && r.path
            .to_ascii_lowercase()
            .ends_with(&suffix.to_ascii_lowercase())
}

/// The name of the staging copy, from the PUT that created it.
#[track_caller]
pub fn staging_copy(reqs: &[Request]) -> (usize, String) {
    let at = format!("/servers/{STAGING}/databases/").to_ascii_lowercase();
    let i = reqs
        .iter()
        .position(|r| r.method == "PUT" && r.path.to_ascii_lowercase().contains(&at))
        .unwrap_or_else(|| panic!("no PUT of a staging database in {reqs:#?}"));
    (i, reqs[i].segments().last().unwrap().clone())
}

pub fn fingerprint_rows(shown: &Value) -> BTreeMap<String, u64> {
    shown["fingerprints"]["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("no fingerprints in {shown:#}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn errors(out: &Out) -> String {
    out.error_lines().join("\n")
}
