//! Running the binary against a repository in a private Azurite, for the
//! CLI tests (included by them with `#[path]`, beside `mod common`).

#![allow(dead_code)]

use crate::azurite::Azurite;
use crate::common::*;
use sqlvault::storage::{AzureStorage, Storage};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A repository in Azurite, opened by the binary with `env` as credentials.
pub struct AzVault {
    pub v: Vault,
    pub env: Vec<(&'static str, String)>,
}

impl AzVault {
    pub fn new(scratch: &Scratch, az: &Azurite, container: &str) -> AzVault {
        AzVault::with_env(
            scratch,
            az.url(container),
            vec![("AZURE_STORAGE_CONNECTION_STRING", az.connection_string())],
        )
    }

    pub fn with_env(scratch: &Scratch, url: String, env: Vec<(&'static str, String)>) -> AzVault {
        AzVault {
            v: Vault {
                repo: url.into(),
                home: scratch.home(),
                password: Some(PASSWORD.to_string()),
            },
            env,
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = self.v.cmd();
        for (k, val) in &self.env {
            c.env(k, val);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run(self.cmd().args(args))
    }

    #[track_caller]
    pub fn backup_one(&self, db: &Path) -> String {
        let out = run(self.cmd().arg("--json").arg("backup").arg(db));
        out.expect_code(0);
        point_of(&out.json()["databases"][0])
    }

    #[track_caller]
    pub fn restore(&self, point: &str, to: &Path) {
        run(self
            .cmd()
            .args(["--json", "restore", point, "--to"])
            .arg(to))
        .expect_code(0);
    }

    pub fn points(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["--json", "points"]);
        out.expect_code(0);
        out.json().as_array().unwrap().clone()
    }

    #[track_caller]
    pub fn verify_ok(&self) {
        let out = self.run(&["--json", "verify"]);
        out.expect_code(0);
        assert_eq!(out.json()["status"], "ok", "{}", out.stdout);
    }

    pub fn spawn_backup(&self, db: &Path, extra_env: &[(&str, &str)]) -> Child {
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
pub fn storage(az: &Azurite, container: &str) -> AzureStorage {
    let cs = az.connection_string();
    AzureStorage::open_with(
        &az.url(container),
        &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
        Default::default(),
    )
    .unwrap()
}

/// Wait until the first pack is in the container (the backup is uploading).
pub fn wait_for_pack(s: &AzureStorage, child: &mut Child) {
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

pub fn output(child: Child) -> Out {
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}
