//! A private Azurite (Blob service, and the Queue service when asked) for
//! the tests: started on free ports on 127.0.0.1 with its data in a
//! temporary directory, telemetry off, and killed when the handle is
//! dropped. A test that needs it and cannot find it fails: run
//! `scripts/test-deps` to install it.

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
    pub port: u16,
    dir: tempfile::TempDir,
    /// The Queue service, when started.
    queue: Option<(Child, u16)>,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SQLVAULT_AZURITE_BLOB") {
        return PathBuf::from(p);
    }
    tool("azurite-blob")
}

fn tool(name: &str) -> PathBuf {
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/azurite/node_modules/.bin")
        .join(name);
    if local.exists() {
        return local;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    });
    on_path.unwrap_or_else(|| {
        panic!("{name} not found: run scripts/test-deps (it installs Azurite into .tools/azurite)")
    })
}

/// One Azurite service (`blob` or `queue`) on `port`, data in `dir`.
fn spawn(program: &Path, service: &str, port: u16, dir: &Path) -> Child {
    Command::new(program)
        .arg(format!("--{service}Host"))
        .arg("127.0.0.1")
        .arg(format!("--{service}Port"))
        .arg(port.to_string())
        .arg("--location")
        .arg(dir)
        // Never send telemetry off this machine.
        .arg("--disableTelemetry")
        .arg("--skipApiVersionCheck")
        .arg("--silent")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start azurite ({service}): {e}"))
}

fn wait_for_port(child: &mut Child, port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start within a minute"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
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
            queue: None,
        };
        a.restart();
        a
    }

    /// Blob and Queue services.
    pub fn start_with_queue() -> Azurite {
        let mut a = Azurite::start();
        let port = free_port();
        let dir = a.dir.path().join("queue");
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = spawn(&tool("azurite-queue"), "queue", port, &dir);
        wait_for_port(&mut child, port, "azurite-queue");
        a.queue = Some((child, port));
        a
    }

    pub fn queue_endpoint(&self) -> String {
        let (_, port) = self.queue.as_ref().expect("started with the Queue service");
        format!("http://127.0.0.1:{port}/{ACCOUNT}")
    }

    /// `azure-queue://devstoreaccount1/<name>`.
    pub fn queue_url(&self, name: &str) -> String {
        format!("azure-queue://{ACCOUNT}/{name}")
    }

    /// Start again on the same port with the same data (after [`stop`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "Azurite is already running");
        let child = spawn(&binary(), "blob", self.port, self.dir.path());
        self.child = Some(child);
        wait_for_port(self.child.as_mut().unwrap(), self.port, "azurite-blob");
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
        let queue = match &self.queue {
            Some(_) => format!("QueueEndpoint={};", self.queue_endpoint()),
            None => String::new(),
        };
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={};{queue}",
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
        if let Some((mut c, _)) = self.queue.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
