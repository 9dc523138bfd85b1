//! A private Azurite (Blob service) for the tests: started on a free port
//! on 127.0.0.1 with its data in a temporary directory, telemetry off, and
//! killed when the handle is dropped. A test that needs it and cannot find
//! it fails: run `scripts/test-deps` to install it.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Azurite's public development account and key.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SQLVAULT_AZURITE_BLOB") {
        return PathBuf::from(p);
    }
    let local =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/azurite/node_modules/.bin/azurite-blob");
    if local.exists() {
        return local;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("azurite-blob"))
            .find(|p| p.exists())
    });
    on_path.unwrap_or_else(|| {
        panic!("azurite-blob not found: run scripts/test-deps (it installs Azurite into .tools/azurite)")
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Azurite {
    pub fn start() -> Azurite {
        let mut a = Azurite {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        a.restart();
        a
    }

    /// Start again on the same port with the same data (after [`stop`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "Azurite is already running");
        let child = Command::new(binary())
            .args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(self.port.to_string())
            .arg("--location")
            .arg(self.dir.path())
            // Never send telemetry off this machine.
            .arg("--disableTelemetry")
            .arg("--skipApiVersionCheck")
            .arg("--silent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start azurite-blob");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("azurite-blob exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "Azurite did not start within a minute"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stop gracefully (Azurite writes its metadata out on SIGTERM, so a
    /// restart finds the same containers), killing it if it lingers.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={};",
            self.endpoint()
        )
    }

    /// `azure://devstoreaccount1/<container>[/prefix]`.
    pub fn url(&self, container_and_prefix: &str) -> String {
        format!("azure://{ACCOUNT}/{container_and_prefix}")
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        self.stop();
    }
}
