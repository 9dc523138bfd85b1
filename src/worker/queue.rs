//! The job queue on Azure Queue Storage (or Azurite), through the official
//! SDK: the jobs queue, its poison queue, and the queue where workers
//! announce themselves. Synchronous, like the storage backends: the client
//! owns a small runtime and blocks on it.

use super::queue_url::QueueUrl;
use crate::error::{Error, Kind, Result};
use crate::storage::azure::{CountPolicy, Service, access, redact};
use azure_core::http::headers::HeaderName;
use azure_core::http::{ClientOptions, RetryOptions, StatusCode};
use azure_storage_queue::models::{
    QueueClientPeekMessagesOptions, QueueClientReceiveMessagesOptions,
    QueueClientSendMessageOptions, QueueClientUpdateMessageOptions, QueueMessage,
};
use azure_storage_queue::{QueueClient, QueueClientOptions};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Which of the three queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Jobs,
    Poison,
    Workers,
}

/// A message taken off a queue: invisible to others until its visibility
/// timeout ends, and deletable only with its current pop receipt.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub pop_receipt: String,
    pub text: String,
    /// How many times it has been taken, this time included.
    pub dequeue_count: u32,
    /// When it was put on the queue.
    pub inserted: Option<time::OffsetDateTime>,
}

/// A message looked at without taking it.
#[derive(Debug, Clone)]
pub struct Peeked {
    pub text: String,
    pub dequeue_count: u32,
    pub inserted: Option<String>,
}

pub struct JobQueue {
    pub url: QueueUrl,
    rt: tokio::runtime::Runtime,
    jobs: QueueClient,
    poison: QueueClient,
    workers: QueueClient,
    secrets: Vec<String>,
    source: &'static str,
    counter: Arc<CountPolicy>,
}

fn seconds(d: Duration) -> i32 {
    d.as_secs().min(i32::MAX as u64) as i32
}

impl JobQueue {
    /// Open `azure-queue://…` with credentials from the process environment.
    pub fn open(location: &str) -> Result<JobQueue> {
        let retry = std::env::var("SQLVAULT_AZURE_RETRY_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Self::open_with(location, &|k| std::env::var(k).ok(), retry)
    }

    pub fn open_with(
        location: &str,
        env: &dyn Fn(&str) -> Option<String>,
        retry_seconds: i64,
    ) -> Result<JobQueue> {
        let url = QueueUrl::parse(location).map_err(Error::usage)?;
        let what = url.to_string();
        let access = access::resolve(
            Service::Queue,
            &url.account,
            url.endpoint.as_ref(),
            env,
            &what,
        )
        .map_err(|e| {
            Error::usage(e).with_hint("see \"Azure\" in the README for the credentials")
        })?;
        let counter = Arc::new(CountPolicy::default());
        let mut per_try = access.per_try.clone();
        per_try.insert(0, counter.clone());
        let options = QueueClientOptions {
            client_options: ClientOptions {
                per_try_policies: per_try,
                retry: RetryOptions::exponential(azure_core::http::ExponentialRetryOptions {
                    max_total_elapsed: azure_core::time::Duration::seconds(retry_seconds),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let client = |name: &str| -> Result<QueueClient> {
            let u = access
                .resource_url(name)
                .map_err(|e| Error::usage(format!("{what}: {e}")))?;
            QueueClient::new(u, access.token.clone(), Some(options.clone())).map_err(|e| {
                Error::usage(format!(
                    "{what}: {}",
                    redact(&e.to_string(), &access.secrets)
                ))
            })
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("queue-io")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(Kind::Storage, format!("cannot start the queue client: {e}"))
            })?;
        Ok(JobQueue {
            jobs: client(&url.queue)?,
            poison: client(&url.poison())?,
            workers: client(&url.workers())?,
            secrets: access.secrets.clone(),
            source: access.source,
            counter,
            rt,
            url,
        })
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.counter.requests.load(Ordering::Relaxed)
    }

    fn client(&self, which: Which) -> &QueueClient {
        match which {
            Which::Jobs => &self.jobs,
            Which::Poison => &self.poison,
            Which::Workers => &self.workers,
        }
    }

    fn name(&self, which: Which) -> String {
        match which {
            Which::Jobs => self.url.queue.clone(),
            Which::Poison => self.url.poison(),
            Which::Workers => self.url.workers(),
        }
    }

    /// An SDK error as one line for the user, secrets taken out.
    fn err(&self, which: Which, doing: &str, e: azure_core::Error) -> Error {
        use azure_core::error::ErrorKind;
        let name = self.name(which);
        let code = match e.kind() {
            ErrorKind::HttpResponse { error_code, .. } => error_code.clone(),
            _ => None,
        };
        let text = redact(&e.to_string(), &self.secrets);
        let first = text.lines().next().unwrap_or("").to_string();
        match (e.http_status(), code.as_deref(), e.kind()) {
            (_, _, ErrorKind::Credential) => Error::new(
                Kind::Auth,
                format!("cannot {doing} `{name}`: no Microsoft Entra ID token"),
            )
            .with_hint("set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY, or sign in with `az login`"),
            (Some(StatusCode::NotFound), _, _) | (_, Some("QueueNotFound"), _) => Error::usage(
                format!("the queue `{name}` does not exist ({})", self.url),
            )
            .with_hint("start a worker on it (`sqlvault worker --queue ...` creates the queues), or check the queue name"),
            (Some(StatusCode::Unauthorized | StatusCode::Forbidden), c, _) => Error::new(
                Kind::Auth,
                format!(
                    "access to the queue `{name}` was denied ({}; credentials from {})",
                    c.unwrap_or("forbidden"),
                    self.source
                ),
            )
            .with_hint("check the account key or SAS token (it needs read, add, update and process permissions on queues)"),
            (Some(_), c, _) => Error::new(
                Kind::Storage,
                format!("cannot {doing} `{name}`: {}", c.unwrap_or(&first)),
            ),
            (None, _, _) => Error::new(
                Kind::Storage,
                format!("cannot reach the queue service of {}: {first}", self.url),
            )
            .with_hint("check the endpoint, the network, and that the account exists"),
        }
    }

    /// Create the three queues where they do not exist yet.
    pub fn ensure_exists(&self) -> Result<()> {
        for which in [Which::Jobs, Which::Poison, Which::Workers] {
            let r = self.rt.block_on(self.client(which).create(None));
            match r {
                Ok(_) => {}
                // Exists already with other metadata: still a queue we can use.
                Err(e) if e.http_status() == Some(StatusCode::Conflict) => {}
                Err(e) => return Err(self.err(which, "create the queue", e)),
            }
        }
        Ok(())
    }

    /// Put `text` on a queue, hidden for `delay` and kept for `ttl`
    /// (the service's default, 7 days, when `None`; for ever when `MAX`).
    pub fn send(
        &self,
        which: Which,
        text: &str,
        delay: Option<Duration>,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let body = QueueMessage {
            message_text: Some(text.to_string()),
        };
        let options = QueueClientSendMessageOptions {
            visibility_timeout: delay.map(seconds),
            message_time_to_live: ttl.map(|t| if t == Duration::MAX { -1 } else { seconds(t) }),
            ..Default::default()
        };
        let content = body
            .try_into()
            .map_err(|e: azure_core::Error| self.err(which, "write to", e))?;
        self.rt
            .block_on(self.client(which).send_message(content, Some(options)))
            .map_err(|e| self.err(which, "send a message to", e))?;
        Ok(())
    }

    /// Take the next visible job, hiding it from others for `visibility`.
    pub fn receive(&self, visibility: Duration) -> Result<Option<Message>> {
        let options = QueueClientReceiveMessagesOptions {
            number_of_messages: Some(1),
            visibility_timeout: Some(seconds(visibility).max(1)),
            ..Default::default()
        };
        let got = self.rt.block_on(async {
            let r = self.jobs.receive_messages(Some(options)).await?;
            r.into_model()
        });
        let got = got.map_err(|e| self.err(Which::Jobs, "read from", e))?;
        Ok(got.items.unwrap_or_default().into_iter().find_map(|m| {
            Some(Message {
                id: m.message_id?,
                pop_receipt: m.pop_receipt?,
                text: m.message_text.unwrap_or_default(),
                dequeue_count: m.dequeue_count.unwrap_or(1).max(0) as u32,
                inserted: m.insertion_time,
            })
        }))
    }

    /// Keep a taken job hidden for `visibility` from now (0: visible at
    /// once), optionally replacing its text. The pop receipt changes.
    pub fn update(&self, m: &mut Message, visibility: Duration, text: Option<&str>) -> Result<()> {
        let mut options = QueueClientUpdateMessageOptions::default();
        if let Some(t) = text {
            let body = QueueMessage {
                message_text: Some(t.to_string()),
            };
            options.queue_message = Some(
                body.try_into()
                    .map_err(|e: azure_core::Error| self.err(Which::Jobs, "update", e))?,
            );
        }
        let r = self
            .rt
            .block_on(self.jobs.update_message(
                &m.id,
                &m.pop_receipt,
                seconds(visibility),
                Some(options),
            ))
            .map_err(|e| self.err(Which::Jobs, "update a message in", e))?;
        if let Some(p) = r
            .headers()
            .get_optional_str(&HeaderName::from_static("x-ms-popreceipt"))
        {
            m.pop_receipt = p.to_string();
        }
        if let Some(t) = text {
            m.text = t.to_string();
        }
        Ok(())
    }

    /// Remove a taken job for good.
    pub fn delete(&self, m: &Message) -> Result<()> {
        self.rt
            .block_on(self.jobs.delete_message(&m.id, &m.pop_receipt, None))
            .map_err(|e| self.err(Which::Jobs, "delete a message from", e))?;
        Ok(())
    }

    /// Up to 32 messages at the head of a queue, without taking them.
    pub fn peek(&self, which: Which) -> Result<Vec<Peeked>> {
        let options = QueueClientPeekMessagesOptions {
            number_of_messages: Some(32),
            ..Default::default()
        };
        let got = self.rt.block_on(async {
            let r = self.client(which).peek_messages(Some(options)).await?;
            r.into_model()
        });
        let got = got.map_err(|e| self.err(which, "read from", e))?;
        Ok(got
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|m| Peeked {
                text: m.message_text.unwrap_or_default(),
                dequeue_count: m.dequeue_count.unwrap_or(0).max(0) as u32,
                inserted: m.insertion_time.and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
            })
            .collect())
    }

    /// The service's approximate count of messages, hidden ones included.
    pub fn count(&self, which: Which) -> Result<u64> {
        use azure_storage_queue::models::QueueClientGetPropertiesResultHeaders as _;
        let r = self
            .rt
            .block_on(self.client(which).get_properties(None))
            .map_err(|e| self.err(which, "read the properties of", e))?;
        Ok(r.approximate_messages_count()
            .ok()
            .flatten()
            .unwrap_or(0)
            .max(0) as u64)
    }
}
