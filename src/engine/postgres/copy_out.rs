//! The connections that read tables with `COPY ... TO STDOUT`: backup
//! workers and the restore check.
//!
//! The blocking client enters its runtime once per COPY row; on narrow
//! rows that cost a quarter of the client's time. These connections drive
//! the asynchronous client directly, one runtime entry per statement, and
//! gather the rows into large pieces inside it.

use super::connect::{config, with_deadline};
use crate::error::Result;
use futures::StreamExt;
use tokio::runtime::Runtime;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, NoTls, Row, Socket};

type PgResult<T> = std::result::Result<T, tokio_postgres::Error>;

/// Rows are handed on in pieces of about this size.
const PIECE: usize = 256 * 1024;

pub struct CopyConnection {
    rt: Runtime,
    /// Taken only when the connection is dropped.
    client: Option<Client>,
    conn: tokio::task::JoinHandle<()>,
}

impl CopyConnection {
    /// Open one connection, with the same settings, TLS and deadline as
    /// [`super::connect::connect`].
    pub fn open(spec: &super::url::ConnSpec) -> Result<CopyConnection> {
        let cfg = config(spec);
        with_deadline(spec, move |tls| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a single-thread runtime starts");
            let (client, conn) = rt.block_on(async {
                match tls {
                    Some(t) => start(&cfg, t).await,
                    None => start(&cfg, NoTls).await,
                }
            })?;
            Ok(CopyConnection {
                rt,
                client: Some(client),
                conn,
            })
        })
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("taken only on drop")
    }

    pub fn batch_execute(&mut self, sql: &str) -> PgResult<()> {
        self.rt.block_on(self.client().batch_execute(sql))
    }

    pub fn query_one(&mut self, sql: &str) -> PgResult<Row> {
        self.rt.block_on(self.client().query_one(sql, &[]))
    }

    /// Run `sql` (a `COPY ... TO STDOUT`) and hand its output to `each` in
    /// pieces of whole rows.
    pub fn copy_out(
        &mut self,
        sql: &str,
        mut each: impl FnMut(&[u8]) -> Result<()>,
        fail: impl Fn(&tokio_postgres::Error) -> crate::error::Error,
    ) -> Result<()> {
        let client = self.client();
        self.rt.block_on(async {
            let stream = client.copy_out(sql).await.map_err(|e| fail(&e))?;
            let mut stream = std::pin::pin!(stream);
            let mut piece = Vec::with_capacity(PIECE + 64 * 1024);
            while let Some(row) = stream.next().await {
                piece.extend_from_slice(&row.map_err(|e| fail(&e))?);
                if piece.len() >= PIECE {
                    each(&piece)?;
                    piece.clear();
                }
            }
            if !piece.is_empty() {
                each(&piece)?;
            }
            Ok(())
        })
    }
}

/// Connect, and leave the connection's task on the current runtime: it
/// runs whenever a statement waits.
async fn start<T>(
    cfg: &tokio_postgres::Config,
    tls: T,
) -> PgResult<(Client, tokio::task::JoinHandle<()>)>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, conn) = cfg.connect(tls).await?;
    Ok((client, tokio::spawn(async move { drop(conn.await) })))
}

impl Drop for CopyConnection {
    /// Close the connection as the blocking client does, with a goodbye
    /// the server expects, rather than by cutting it.
    fn drop(&mut self) {
        drop(self.client.take());
        let conn = &mut self.conn;
        let _ = self.rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(2), conn).await
        });
    }
}
