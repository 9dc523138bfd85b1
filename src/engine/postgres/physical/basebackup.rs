//! A base backup over the replication protocol (`BASE_BACKUP`), streamed
//! into the repository: every file of the cluster becomes a stream cut at
//! page boundaries, so a second base backup stores only changed pages.
//!
//! The server sends one tar archive per tablespace inside one COPY; the
//! tar is read as it arrives and never touches the local disk.

use super::meta::{PhysicalMeta, Tablespace};
use super::replication::{Replication, ServerError};
use super::wal::{Lsn, segment_name};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::writer::BackupWriter;
use std::io::Read;
use std::time::{Duration, Instant};

/// PostgreSQL's page size; relation files are cut on its multiples.
const PAGE: usize = 8192;

/// The facts `IDENTIFY_SYSTEM` and a few `SHOW`s give.
pub struct ServerFacts {
    pub system_identifier: String,
    pub timeline: u32,
    pub seg_size: u64,
    pub server_version: u32,
}

fn show(conn: &mut Replication, setting: &str) -> Result<String> {
    conn.command(&format!("SHOW {setting}"))?;
    let rows = conn.rows(&format!("reading `{setting}`"))?;
    conn.finish(&format!("reading `{setting}`"))?;
    Ok(rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_default())
}

/// `16MB` → bytes.
fn parse_size(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    Some(match &s[digits.len()..] {
        "kB" => n << 10,
        "MB" => n << 20,
        "GB" => n << 30,
        "" => n,
        _ => return None,
    })
}

/// Who the server is, and whether its WAL is archived at all (on a
/// standby, `archive_mode` is the primary's business: `archived` says
/// what the primary has).
pub fn identify(conn: &mut Replication, archived: Option<&str>) -> Result<ServerFacts> {
    conn.command("IDENTIFY_SYSTEM")?;
    let rows = conn.rows("identifying the cluster")?;
    conn.finish("identifying the cluster")?;
    let row = rows
        .first()
        .ok_or_else(|| Error::database("IDENTIFY_SYSTEM returned no row"))?;
    let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let wal_level = show(conn, "wal_level")?;
    let archive_mode = match archived {
        Some(mode) => mode.to_string(),
        None => show(conn, "archive_mode")?,
    };
    if wal_level == "minimal" || archive_mode == "off" {
        return Err(Error::usage(format!(
            "WAL of `{}` is not archived (wal_level = {wal_level}, archive_mode = {archive_mode}): a base backup could not be recovered",
            conn.shown()
        ))
        .with_hint(
            "set wal_level = replica, archive_mode = on and archive_command = 'sqlvault wal push %p --repo ... --key-file ...' in postgresql.conf, and restart the server",
        ));
    }
    let seg = show(conn, "wal_segment_size")?;
    Ok(ServerFacts {
        system_identifier: field(0),
        timeline: field(1).parse().unwrap_or(1),
        seg_size: parse_size(&seg).unwrap_or(16 << 20),
        server_version: conn.server_version,
    })
}

/// Reads the data of the current archive of a BASE_BACKUP COPY; ends at
/// the next archive, or at the end of the COPY.
struct ArchiveReader<'a> {
    conn: &'a mut Replication,
    buf: Vec<u8>,
    pos: usize,
    /// The next archive's header, once met.
    next: Option<(String, String)>,
    done: bool,
    progress: &'a dyn Progress,
}

impl ArchiveReader<'_> {
    /// Move to the next message with data; false at an archive's end.
    fn fill(&mut self) -> Result<bool> {
        loop {
            if self.done || self.next.is_some() {
                return Ok(false);
            }
            let m = self.conn.message()?;
            match m.tag {
                b'd' => match m.body.first() {
                    Some(b'd') => {
                        self.buf = m.body;
                        self.pos = 1;
                        if self.buf.len() > 1 {
                            return Ok(true);
                        }
                    }
                    Some(b'n') => self.next = Some(archive_header(&m.body[1..])),
                    Some(b'p') => {}
                    Some(b'm') => self.next = Some(("backup_manifest".into(), String::new())),
                    _ => {}
                },
                b'c' => self.done = true,
                b'E' => {
                    let e = ServerError::parse(&m.body);
                    return Err(self.conn.server_error("the base backup failed", e));
                }
                other => {
                    return Err(Error::database(format!(
                        "unexpected message `{}` during the base backup",
                        other as char
                    )));
                }
            }
        }
    }
}

impl Read for ArchiveReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.buf.len() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// `n` message: archive name, then tablespace location, NUL-terminated.
fn archive_header(body: &[u8]) -> (String, String) {
    let mut parts = body.split(|&b| b == 0);
    let name = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
    let loc = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
    (name, loc)
}

/// The (location, timeline) row BASE_BACKUP sends at its start and end.
fn position(rows: &[Vec<Option<String>>], what: &str, default_tli: u32) -> Result<(Lsn, u32)> {
    let row = rows
        .first()
        .ok_or_else(|| Error::database(format!("the base backup sent no {what} location")))?;
    let lsn = Lsn::parse(row.first().cloned().flatten().as_deref().unwrap_or(""))
        .map_err(|_| Error::database(format!("the server sent a malformed {what} location")))?;
    let tli = row
        .get(1)
        .cloned()
        .flatten()
        .and_then(|t| t.parse().ok())
        .unwrap_or(default_tli);
    Ok((lsn, tli))
}

/// Run `BASE_BACKUP`, writing every file as a stream; returns the facts
/// recovery needs.
pub fn run(
    conn: &mut Replication,
    facts: &ServerFacts,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<PhysicalMeta> {
    let started_at = crate::util::now_rfc3339();
    progress.phase("checkpoint");
    conn.command(
        "BASE_BACKUP (LABEL 'sqlvault', PROGRESS, CHECKPOINT 'fast', WAIT false, MANIFEST 'no', TABLESPACE_MAP)",
    )?;
    let (start_lsn, start_tli) = position(
        &conn.rows("starting the base backup")?,
        "start",
        facts.timeline,
    )?;
    let spaces = conn.rows("listing tablespaces")?;
    let total: u64 = spaces
        .iter()
        .filter_map(|r| r.get(2).cloned().flatten()?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024;
    progress.set_total(total);
    progress.phase("copying files");
    // CopyOutResponse.
    let m = conn.message()?;
    if m.tag == b'E' {
        return Err(conn.server_error("starting the base backup", ServerError::parse(&m.body)));
    }
    if m.tag != b'H' {
        return Err(Error::database(
            "the server did not start sending the base backup",
        ));
    }
    let mut tablespaces = Vec::new();
    let mut dirs = Vec::new();
    let mut reader = ArchiveReader {
        conn,
        buf: Vec::new(),
        pos: 0,
        next: None,
        done: false,
        progress,
    };
    // The first message names the first archive.
    reader.fill()?;
    while let Some((name, location)) = reader.next.take() {
        let prefix = if name == "base.tar" {
            "data/".to_string()
        } else if let Some(oid) = name.strip_suffix(".tar") {
            tablespaces.push(Tablespace {
                oid: oid.to_string(),
                location: location.clone(),
            });
            format!("tablespaces/{oid}/")
        } else {
            // A manifest or an archive kind this version does not know: skip it.
            std::io::copy(&mut reader, &mut std::io::sink()).map_err(io_error)?;
            continue;
        };
        read_tar(&mut reader, &prefix, writer, &mut dirs)?;
    }
    let conn = reader.conn;
    let end = conn.rows("finishing the base backup")?;
    conn.finish("finishing the base backup")?;
    let (stop_lsn, stop_tli) = position(&end, "end", start_tli)?;
    Ok(PhysicalMeta {
        cluster: String::new(),
        system_identifier: facts.system_identifier.clone(),
        server_version: facts.server_version,
        seg_size: facts.seg_size,
        timeline: start_tli,
        start_lsn: start_lsn.to_string(),
        stop_lsn: stop_lsn.to_string(),
        stop_timeline: stop_tli,
        started_at,
        stopped_at: crate::util::now_rfc3339(),
        tablespaces,
        dirs,
    })
}

fn io_error(e: std::io::Error) -> Error {
    super::super::from_io(e, "reading the base backup")
}

/// Store each regular file of one tar archive as a stream `prefix + path`.
fn read_tar(
    reader: &mut ArchiveReader<'_>,
    prefix: &str,
    writer: &BackupWriter,
    dirs: &mut Vec<String>,
) -> Result<()> {
    let mut archive = tar::Archive::new(&mut *reader);
    let entries = archive.entries().map_err(io_error)?;
    for entry in entries {
        let mut entry = entry.map_err(io_error)?;
        let path = entry
            .path()
            .map_err(io_error)?
            .to_string_lossy()
            .into_owned();
        let path = path.trim_end_matches('/').to_string();
        match entry.header().entry_type() {
            tar::EntryType::Directory => dirs.push(format!("{prefix}{path}")),
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut w = writer.stream_of_pages(&format!("{prefix}{path}"), PAGE)?;
                std::io::copy(&mut entry, &mut w).map_err(io_error)?;
                w.finish()?;
            }
            // Tablespace links: recreated from the tablespace map.
            _ => {}
        }
    }
    // Whatever follows the end-of-archive blocks, up to the next archive.
    std::io::copy(reader, &mut std::io::sink()).map_err(io_error)?;
    Ok(())
}

/// Wait until every WAL segment from `start` to `stop` is in the archive,
/// so that the base backup can be recovered on its own.
pub fn wait_for_wal(
    repo: &crate::repo::Repository,
    meta: &PhysicalMeta,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<()> {
    progress.phase("waiting for WAL to be archived");
    let seg = meta.seg_size;
    let start = Lsn::parse(&meta.start_lsn)?.segment(seg);
    let stop = super::window::last_needed(meta)?;
    let mut missing: Vec<String> = (start..=stop)
        .map(|s| segment_name(meta.stop_timeline, s, seg))
        .collect();
    let began = Instant::now();
    loop {
        // Only what is still missing is looked up again.
        let mut still = Vec::new();
        for name in missing {
            if repo.log_meta(&meta.cluster, &name)?.is_none() {
                still.push(name);
            }
        }
        missing = still;
        if missing.is_empty() {
            return Ok(());
        }
        if began.elapsed() >= timeout {
            return Err(Error::database(format!(
                "WAL segment {} of the base backup was not archived within {}s",
                missing[0],
                timeout.as_secs()
            ))
            .with_hint(format!(
                "archiving is failing or behind: look at `SELECT * FROM pg_stat_archiver` and the server log, check that archive_command pushes into this repository with --cluster {}, or raise --wal-timeout",
                meta.cluster
            )));
        }
        crate::interrupt::check()?;
        std::thread::sleep(Duration::from_millis(250));
    }
}
