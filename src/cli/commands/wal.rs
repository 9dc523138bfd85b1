//! `wal push` and `wal fetch`: PostgreSQL's archive_command and
//! restore_command.

use crate::cli::output::Output;
use crate::cli::{Global, print_error, repository};
use clap::{Args, Subcommand};
use sqlvault::Result;
use sqlvault::engine::postgres::physical::archive::{self, DEFAULT_CLUSTER};
use sqlvault::repo::logs::Stored;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct WalArgs {
    #[command(subcommand)]
    pub command: WalCommand,
}

#[derive(Debug, Subcommand)]
pub enum WalCommand {
    /// Archive one WAL file (archive_command = 'sqlvault wal push %p ...'); exits 0 only once it is stored.
    Push(PushArgs),
    /// Restore one archived WAL file (restore_command = 'sqlvault wal fetch %f %p ...'); exit 1: not in the archive.
    Fetch(FetchArgs),
    /// Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`).
    #[command(hide = true)]
    Prefetch(FetchArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The file to archive (%p).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// The cluster's name in the repository; one per database cluster.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CLUSTER)]
    pub cluster: String,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The archived file's name (%f).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Where to write it (%p).
    #[arg(value_name = "PATH")]
    pub dest: PathBuf,
    /// The cluster's name in the repository.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_CLUSTER)]
    pub cluster: String,
    /// Segments to fetch ahead, in parallel, while the server replays this
    /// one (0: none); they wait in `.sqlvault-prefetch` beside PATH.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub prefetch: u64,
}

/// `wal fetch` exit status when the archive cannot be read: above 125,
/// PostgreSQL stops recovery instead of taking the failure for the end
/// of the archive and promoting too early.
pub const FETCH_FAILED: i32 = 126;

pub fn run(g: &Global, a: &WalArgs, out: &Output) -> Result<i32> {
    match &a.command {
        WalCommand::Push(p) => {
            let repo = repository::open(g, false, true)?;
            let stored = archive::push(&repo, &p.cluster, &p.path)?;
            if stored == Stored::AlreadyArchived && !out.quiet {
                errln!(
                    "sqlvault: `{}` was already archived with the same content",
                    p.path.display()
                );
            }
            Ok(0)
        }
        WalCommand::Prefetch(f) => {
            let repo = repository::open(g, false, true)?;
            archive::prefetch(&repo, &f.cluster, &f.file, &f.dest, f.prefetch)?;
            Ok(0)
        }
        WalCommand::Fetch(f) => {
            let fetched = repository::open(g, false, true)
                .and_then(|repo| archive::fetch(&repo, &f.cluster, &f.file, &f.dest));
            match fetched {
                Ok(true) => {
                    if f.prefetch > 0 {
                        spawn_prefetch();
                    }
                    Ok(0)
                }
                Ok(false) => {
                    if !out.quiet {
                        errln!(
                            "sqlvault: `{}` is not in the archive of cluster `{}`",
                            f.file,
                            f.cluster
                        );
                    }
                    Ok(1)
                }
                Err(e) => {
                    print_error(&e);
                    Ok(FETCH_FAILED)
                }
            }
        }
    }
}

/// Run `wal prefetch` with this call's arguments in the background: the
/// server replays this segment meanwhile, and finds the next ones spooled.
fn spawn_prefetch() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let Some(pos) = args.iter().position(|a| a == "fetch") else {
        return;
    };
    args[pos] = "prefetch".into();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Its own session: the server's signals to this call do not reach it.
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and has no preconditions.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    // Not waited for: it outlives this call by design.
    #[allow(clippy::zombie_processes)]
    let _ = cmd.spawn();
}
