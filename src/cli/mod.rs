//! The command-line definition and glue: parse flags, open the repository,
//! call the core, print the report.

/// `println!` that carries on when stdout is closed (`points | head -1`):
/// the work and its session record matter more than the lines nobody reads.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that carries on when stderr is closed (a log reader that
/// went away must not stop a backup).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod azuresql;
mod commands;
mod dispatch;
mod generated;
mod output;
mod progress;
mod repository;
mod secrets;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use output::print_error;

#[derive(Debug, Parser)]
#[command(
    name = "sqlvault",
    version,
    about = "Back up SQL databases into an encrypted, deduplicating repository, and restore them.",
    after_help = "Exit codes: 0 ok, 1 a database or restore point failed, 2 usage or configuration error,\n3 wrong password or key, 4 repository missing or damaged, 5 storage error (permissions, disk full),\n130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix]
    /// (credentials from the environment, see the README). Without it, the
    /// default repository in the user's data directory is used, created on
    /// first backup. With --policy, the policy's repositories are used instead.
    #[arg(
        long,
        global = true,
        env = "SQLVAULT_REPOSITORY",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub repo: Option<PathBuf>,
    /// Read the repository password from the first line of this file.
    #[arg(
        long,
        global = true,
        env = "SQLVAULT_PASSWORD_FILE",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub password_file: Option<PathBuf>,
    /// Use the whole content of this file as the repository key.
    #[arg(
        long,
        global = true,
        env = "SQLVAULT_KEY_FILE",
        hide_env_values = true,
        value_name = "FILE",
        conflicts_with = "password_file"
    )]
    pub key_file: Option<PathBuf>,
    /// Print the session report as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors and the JSON report.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// No progress bars, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new repository.
    Init(commands::init::InitArgs),
    /// Back up databases; each becomes a restore point.
    Backup(commands::backup::BackupArgs),
    /// List the databases of a PostgreSQL, MariaDB or MySQL server and whether they are protected.
    Discover(commands::discover::DiscoverArgs),
    /// List restore points.
    Points(commands::points::PointsArgs),
    /// What a restore point holds: source, versions, streams, and each table's rows and fingerprint.
    Show(commands::show::ShowArgs),
    /// Restore a restore point into a new database.
    Restore(commands::restore::RestoreArgs),
    /// Re-read every object of the repository; with --restore, test-restore every point.
    Verify(commands::verify::VerifyArgs),
    /// Rebuild the index from the packs, remove what no restore point needs, name the points that cannot be restored.
    Repair(commands::repair::RepairArgs),
    /// The history of runs recorded in the repository.
    Sessions(commands::sessions::SessionsArgs),
    /// Policy files: check one.
    Policy(commands::policy::PolicyArgs),
    /// Back up whatever a policy says is due now (safe to call from cron every few minutes).
    Run(commands::run::RunArgs),
    /// Apply a policy's retention and delete the data no remaining point needs.
    Prune(commands::prune::PruneArgs),
    /// Move restore points older than the policy's archive age to the archive repository.
    Archive(commands::archive::ArchiveArgs),
    /// Bring the objects a restore point needs back from the Azure Archive tier.
    Rehydrate(commands::rehydrate::RehydrateArgs),
    /// PostgreSQL WAL archiving: archive_command and restore_command.
    Wal(commands::wal::WalArgs),
    /// Take jobs off an Azure Storage queue and run them (see --dispatch); `worker status` shows the queue.
    Worker(commands::worker::WorkerArgs),
}

/// Run the command; the returned number is the process exit code.
pub fn run(cli: Cli) -> Result<i32, sqlvault::Error> {
    let out = output::Output::new(&cli.global);
    match &cli.command {
        Command::Init(a) => commands::init::run(&cli.global, a, &out),
        Command::Backup(a) => commands::backup::run(&cli.global, a, &out),
        Command::Discover(a) => commands::discover::run(&cli.global, a, &out),
        Command::Points(a) => commands::points::run(&cli.global, a, &out),
        Command::Show(a) => commands::show::run(&cli.global, a, &out),
        Command::Restore(a) => commands::restore::run(&cli.global, a, &out),
        Command::Verify(a) => commands::verify::run(&cli.global, a, &out),
        Command::Repair(a) => commands::repair::run(&cli.global, a, &out),
        Command::Sessions(a) => commands::sessions::run(&cli.global, a, &out),
        Command::Policy(a) => commands::policy::run(&cli.global, a, &out),
        Command::Run(a) => commands::run::run(&cli.global, a, &out),
        Command::Prune(a) => commands::prune::run(&cli.global, a, &out),
        Command::Archive(a) => commands::archive::run(&cli.global, a, &out),
        Command::Rehydrate(a) => commands::rehydrate::run(&cli.global, a, &out),
        Command::Wal(a) => commands::wal::run(&cli.global, a, &out),
        Command::Worker(a) => commands::worker::run(&cli.global, a, &out),
    }
}

/// The time policies decide what is due at: now, or `SQLVAULT_NOW` (an
/// RFC 3339 time) to rehearse a schedule.
pub fn policy_now() -> Result<jiff::Timestamp, sqlvault::Error> {
    match std::env::var("SQLVAULT_NOW") {
        Ok(s) => s.parse().map_err(|_| {
            sqlvault::Error::usage(format!("SQLVAULT_NOW `{s}` is not a time"))
                .with_hint("write it as 2026-12-02T10:15:30Z, or unset it")
        }),
        Err(_) => Ok(jiff::Timestamp::now()),
    }
}
