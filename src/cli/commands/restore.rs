use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::engine::postgres::physical::target;
use sqlvault::engine::postgres::physical::wal::Lsn;
use sqlvault::engine::postgres::physical::{PhysicalOptions, RecoveryTarget};
use sqlvault::engine::{CheckLevel, RestoreOptions};
use sqlvault::{Error, Result, pipeline};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Restore point id (or a unique prefix of at least 4 digits), or `latest`.
    #[arg(value_name = "POINT")]
    pub point: String,
    /// Where to restore: the path of the database file (or package) to
    /// create, a postgres:// or mariadb:// URL naming the database to
    /// create, or (a base backup) the data directory to create.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// With `latest`: the latest point of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Replace the target if it exists.
    #[arg(long)]
    pub force: bool,
    /// PostgreSQL, MariaDB: replace the target database (or --table) even
    /// if it is not empty.
    #[arg(long)]
    pub clean: bool,
    /// PostgreSQL, MariaDB: parallel connections loading tables (and
    /// building indexes).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// MariaDB: write the restore to the server's binary log, so that its
    /// replicas replay it (by default, like myloader, the restore is left
    /// out of it when the user may: SUPER or BINLOG ADMIN).
    #[arg(long)]
    pub binlog: bool,
    /// PostgreSQL, MariaDB: restore only this table (`schema.name`;
    /// MariaDB: its name) into an existing database. A BACPAC: write this
    /// table (`schema.name`) to the file --to names, as CSV or JSON lines.
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// A BACPAC's --table: `csv` (RFC 4180, a header row) or `jsonl` (one
    /// JSON object per row); default: from --to's extension (.jsonl), else csv.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "table")]
    pub format: Option<sqlvault::engine::bacpac::TableFormat>,
    /// Find the point in this policy's repository or, once archived, in its
    /// archive repository.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// How to check the restored database before it is put in place
    /// (a base backup: recover it on a private server and run pg_amcheck).
    #[arg(long, value_enum, default_value_t = CheckLevel::Full)]
    pub check: CheckLevel,
    #[command(flatten)]
    pub recovery: RecoveryArgs,
    #[command(flatten)]
    pub dispatch: crate::cli::dispatch::DispatchArgs,
    #[command(flatten)]
    pub azure: crate::cli::azuresql::AzureSqlArgs,
}

/// Point-in-time recovery of a base backup (`backup --physical`).
#[derive(Debug, Args)]
#[group(id = "recovery_target", multiple = false)]
pub struct TargetArgs {
    /// Recover to this time ('2026-12-02 10:15:30+01'; without an offset, local time).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Recover to this WAL location (0/3000028).
    #[arg(long, value_name = "LSN")]
    pub lsn: Option<String>,
    /// Recover to the end of this transaction id.
    #[arg(long, value_name = "XID")]
    pub xid: Option<String>,
    /// Recover to this named restore point (pg_create_restore_point).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Recover only to where the base backup is consistent.
    #[arg(long)]
    pub immediate: bool,
}

#[derive(Debug, Args)]
pub struct RecoveryArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Stop just before the target instead of just after it.
    #[arg(long)]
    pub exclusive: bool,
    /// The timeline to follow (default: latest).
    #[arg(long, value_name = "TLI")]
    pub timeline: Option<String>,
    /// Restore the tablespace at OLD to NEW instead (repeatable).
    #[arg(long = "tablespace-map", value_name = "OLD=NEW")]
    pub tablespace_map: Vec<String>,
    /// Leave archive_mode on in the restored copy (it is turned off so a
    /// copy never pushes into the archive it came from).
    #[arg(long)]
    pub keep_archiving: bool,
    /// Run as root: the user the restored files belong to (default postgres).
    #[arg(long, value_name = "USER")]
    pub owner: Option<String>,
    /// The directory holding the server binaries of the backup's major version.
    #[arg(long, value_name = "DIR")]
    pub pg_bin: Option<std::path::PathBuf>,
    /// With `latest`: the newest base backup of this cluster.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
}

fn physical_options(g: &Global, r: &RecoveryArgs) -> Result<PhysicalOptions> {
    let t = &r.target;
    let target = if let Some(s) = &t.time {
        RecoveryTarget::Time(target::parse_time(s)?)
    } else if let Some(s) = &t.lsn {
        RecoveryTarget::Lsn(Lsn::parse(s)?)
    } else if let Some(s) = &t.xid {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::usage(format!("`{s}` is not a transaction id")));
        }
        RecoveryTarget::Xid(s.clone())
    } else if let Some(s) = &t.name {
        RecoveryTarget::Name(s.clone())
    } else if t.immediate {
        RecoveryTarget::Immediate
    } else {
        RecoveryTarget::End
    };
    let mut map = Vec::new();
    for m in &r.tablespace_map {
        let (old, new) = m.split_once('=').ok_or_else(|| {
            Error::usage(format!("--tablespace-map `{m}` is not OLD=NEW"))
                .with_hint("give the tablespace's old location and the new one, both absolute")
        })?;
        map.push((old.to_string(), new.to_string()));
    }
    let cluster = r.cluster.clone();
    Ok(PhysicalOptions {
        target,
        exclusive: r.exclusive,
        timeline: r.timeline.clone(),
        tablespace_map: map,
        keep_archiving: r.keep_archiving,
        owner: r.owner.clone(),
        pg_bin: r.pg_bin.clone(),
        restore_command: String::new(),
        cluster,
    }
    .with_restore_command(&restore_command(g)?))
}

/// `sqlvault wal fetch %f %p` with this repository and key, as absolute
/// paths: the server runs it from the data directory.
pub fn restore_command(g: &Global) -> Result<String> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::usage(format!("cannot find the sqlvault executable: {e}")))?;
    let abs = |p: &std::path::Path| {
        let s = p.to_string_lossy();
        if s.contains("://") {
            s.into_owned()
        } else {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .to_string_lossy()
                .into_owned()
        }
    };
    let mut parts = vec![sh_quote(&exe.to_string_lossy()), "wal fetch %f %p".into()];
    let repo = match &g.repo {
        Some(r) => r.clone(),
        None => repository::default_paths()?.repo,
    };
    parts.push(format!("--repo {}", sh_quote(&abs(&repo))));
    if let Some(k) = &g.key_file {
        parts.push(format!("--key-file {}", sh_quote(&abs(k))));
    } else if let Some(p) = &g.password_file {
        parts.push(format!("--password-file {}", sh_quote(&abs(p))));
    } else if g.repo.is_none() {
        let key = repository::default_paths()?.key;
        parts.push(format!("--key-file {}", sh_quote(&abs(&key))));
    }
    Ok(parts.join(" "))
}

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:=@%+".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn run(g: &Global, a: &RestoreArgs, out: &Output) -> Result<i32> {
    // A job carries no SQL login or staging container, and the import runs
    // in Azure anyway: only the package's upload would move to a worker.
    if a.dispatch.dispatch.is_some() && sqlvault::engine::azuresql::is_azuresql_url(&a.to) {
        return Err(
            Error::usage("a restore to Azure SQL runs here, not through --dispatch").with_hint(
                "leave out --dispatch: the import runs in Azure, sqlvault only uploads the package",
            ),
        );
    }
    let repo = match &a.policy {
        Some(file) => {
            let policy = sqlvault::policy::Policy::load(file)?;
            pipeline::policy_repo::holding(&policy.spec, &a.point, a.database.as_deref())?
        }
        None => repository::open(g, false, out.quiet)?,
    };
    let opts = RestoreOptions {
        force: a.force,
        check: a.check,
        jobs: a.jobs.unwrap_or(0),
        clean: a.clean,
        table: a.table.clone(),
        binlog: a.binlog,
        table_format: a.format,
        physical: physical_options(g, &a.recovery)?,
        azure: a.azure.options()?,
    };
    if let Some(queue) = &a.dispatch.dispatch {
        let report = pipeline::dispatched::restore(
            &repo,
            &a.point,
            a.database.as_deref(),
            &a.to,
            &opts,
            &a.dispatch.options(out.quiet),
            queue,
        )?;
        return Ok(out.report(&report));
    }
    match pipeline::restore(
        &repo,
        &a.point,
        a.database.as_deref(),
        &a.to,
        &opts,
        &out.progress,
    ) {
        Ok(report) => Ok(out.report(&report)),
        // The report first, then the error line; the error's exit code.
        Err(failed) => {
            out.print(&failed.report);
            Err(failed.error)
        }
    }
}
