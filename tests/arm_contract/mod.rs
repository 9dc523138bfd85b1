//! A local stand-in for Azure Resource Manager, following the documented
//! REST contract of Microsoft.Sql (api-version 2025-01-01) closely enough
//! that a client which works against it should work against Azure: bearer
//! tokens from an App Service managed identity endpoint, logical servers
//! and databases, database copies, deletes, exports to and imports from
//! blobs, all as long-running operations polled through
//! `Azure-AsyncOperation` and `Location`. Exported packages go to a real
//! Azurite, named by its connection string.
//!
//! A database's "content" is a BACPAC package held in memory: an export
//! writes exactly those bytes, an import keeps exactly the bytes it read.
//!
//! Faults can be injected (throttling, outages, denied actions, failing or
//! never-ending operations); every request is recorded, unredacted.
//!
//! The server listens on 127.0.0.1 on a free port, hands each request to a
//! thread of its own, and stops when dropped.

#![allow(dead_code)]

mod blobs;
pub mod client;
mod databases;
mod http;
mod model;
mod operations;
mod routes;
mod token;
mod transfer;

pub use http::Request;

use model::{Database, Faults, Sku, SqlServer, State};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct ArmServer {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ArmServer {
    /// The secret the managed identity endpoint wants in `X-IDENTITY-HEADER`.
    pub const IDENTITY_HEADER: &str = "arm-contract-identity-secret-5e1f0c";

    /// `blob_connection_string`: Azurite's connection string, used by the
    /// server to read and write the blobs named by export/import requests.
    pub fn start(blob_connection_string: &str) -> ArmServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server
            .server_addr()
            .to_ip()
            .expect("listening on an IP address")
            .port();
        let token = format!(
            "arm-contract-token-{}",
            hex::encode(rand::random::<[u8; 16]>())
        );
        let state = Arc::new(Mutex::new(State {
            base: format!("http://127.0.0.1:{port}"),
            token,
            client_id: model::uuid(),
            object_id: model::uuid(),
            tenant_id: model::uuid(),
            account: blobs::Account::new(blob_connection_string),
            servers: Vec::new(),
            operations: Default::default(),
            requests: Vec::new(),
            faults: Faults::default(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::Builder::new()
                .name("arm-contract".into())
                .spawn(move || accept(&server, &state, &stop))
                .expect("spawn the server thread")
        };
        ArmServer {
            port,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The value for IDENTITY_ENDPOINT.
    pub fn identity_endpoint(&self) -> String {
        format!("{}{}", self.url(), token::PATH)
    }

    /// The bearer token the identity endpoint hands out for Resource
    /// Manager, and the only one ARM accepts (to check it never leaks).
    pub fn access_token(&self) -> String {
        self.lock().token.clone()
    }

    /// A subscription, resource group, logical server (location
    /// "westeurope", holding only `master`) and its SQL admin login.
    pub fn add_server(
        &self,
        subscription: &str,
        resource_group: &str,
        server: &str,
        admin_login: &str,
        admin_password: &str,
    ) {
        let mut st = self.lock();
        assert!(
            st.server(server).is_none(),
            "server {server} exists already"
        );
        st.servers.push(SqlServer {
            subscription: subscription.into(),
            resource_group: resource_group.into(),
            name: server.into(),
            admin_login: admin_login.into(),
            admin_password: admin_password.into(),
            identities: Vec::new(),
            databases: vec![Database::master()],
        });
    }

    /// Assign the user-assigned managed identity `id` (a resource id) to
    /// the server: exports and imports may then authenticate as it, to the
    /// database and to storage.
    pub fn assign_identity(&self, server: &str, id: &str) {
        let mut st = self.lock();
        let s = st
            .servers
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(server))
            .unwrap_or_else(|| panic!("no server {server}"));
        s.identities.push(id.to_string());
    }

    /// A database (sku S0, Standard) on that server whose content is the
    /// given BACPAC package file.
    pub fn add_database(&self, server: &str, database: &str, package: &Path) {
        let bytes = std::fs::read(package).unwrap_or_else(|e| panic!("read {package:?}: {e}"));
        let mut st = self.lock();
        let s = st
            .server_mut(server)
            .unwrap_or_else(|| panic!("no server {server}: add_server first"));
        assert!(s.database(database).is_none(), "{database} exists already");
        s.databases.push(Database::new(
            database,
            Some(Arc::new(bytes)),
            Sku::standard_s0(),
        ));
    }

    /// The server's databases, `master` included, in creation order.
    pub fn database_names(&self, server: &str) -> Vec<String> {
        let st = self.lock();
        let s = st
            .server(server)
            .unwrap_or_else(|| panic!("no server {server}"));
        s.databases.iter().map(|d| d.name.clone()).collect()
    }

    /// A database's content (e.g. what an import created); `None` when
    /// there is no such database (or it is `master`).
    pub fn package_of(&self, server: &str, database: &str) -> Option<Vec<u8>> {
        let st = self.lock();
        st.server(server)?
            .database(database)?
            .package
            .as_ref()
            .map(|p| p.to_vec())
    }

    /// Every request received so far, token requests included, in the
    /// order they were handled, with the status answered.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// The next `n` ARM requests (after authentication) are answered 429
    /// `TooManyRequests` with `Retry-After: 1`.
    pub fn throttle_next(&self, n: usize) {
        self.lock().faults.throttle = n;
    }

    /// The next `n` ARM requests (after authentication, and after any
    /// throttled ones) are answered 503 with `Retry-After: 1`.
    pub fn fail_next_with_503(&self, n: usize) {
        self.lock().faults.unavailable = n;
    }

    /// Requests with this method whose path contains `path_contains`
    /// (both without regard to case) are answered 403 AuthorizationFailed.
    pub fn deny(&self, method: &str, path_contains: &str) {
        self.lock()
            .faults
            .denied
            .push((method.into(), path_contains.into()));
    }

    /// Exports (whose login is right) end Failed with this errorMessage.
    pub fn fail_exports(&self, message: &str) {
        self.lock().faults.export_failure = Some(message.into());
    }

    /// Operations started from now on answer "in progress" this many
    /// times before finishing (default 2).
    pub fn polls_before_done(&self, n: usize) {
        self.lock().faults.polls_before_done = n;
    }

    /// No operation finishes any more (until `resume_operations`).
    pub fn stall_operations(&self) {
        self.lock().faults.stall_all = true;
    }

    /// No export or import finishes any more; copies and deletes still do,
    /// so a client that gives up on an export can still clean up.
    pub fn stall_exports(&self) {
        self.lock().faults.stall_transfers = true;
    }

    /// Operations finish again.
    pub fn resume_operations(&self) {
        let mut st = self.lock();
        st.faults.stall_all = false;
        st.faults.stall_transfers = false;
    }
}

impl Drop for ArmServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

/// Take requests until told to stop, each on a thread of its own so a slow
/// client never holds up another.
fn accept(server: &tiny_http::Server, state: &Arc<Mutex<State>>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(rq)) => {
                let state = state.clone();
                std::thread::spawn(move || serve(rq, &state));
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
}

fn serve(mut rq: tiny_http::Request, state: &Mutex<State>) {
    let mut recorded = Request::read(&mut rq);
    let reply = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let reply = routes::handle(&mut st, &recorded).with("x-ms-request-id", model::uuid());
        recorded.status = reply.status;
        st.requests.push(recorded);
        reply
    };
    let _ = rq.respond(reply.into_response());
}
