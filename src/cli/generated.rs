//! Shell completions and man pages, generated from the CLI definition and
//! checked in (completions/, man/), so packagers need no build step. A test
//! fails when they are stale; `SQLVAULT_BLESS=1 cargo test generated`
//! rewrites them.

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::CommandFactory;
    use clap_complete::Shell;
    use std::path::{Path, PathBuf};

    fn files() -> Vec<(PathBuf, Vec<u8>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for (shell, name) in [
            (Shell::Bash, "sqlvault.bash"),
            (Shell::Zsh, "_sqlvault"),
            (Shell::Fish, "sqlvault.fish"),
            (Shell::PowerShell, "_sqlvault.ps1"),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sqlvault", &mut buf);
            out.push((root.join("completions").join(name), buf));
        }
        let cmd = Cli::command();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut page)
            .unwrap();
        out.push((root.join("man/sqlvault.1"), page));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("sqlvault-{}", sub.get_name());
            let mut page = Vec::new();
            clap_mangen::Man::new(sub.clone().name(&*name.clone().leak()))
                .render(&mut page)
                .unwrap();
            out.push((root.join(format!("man/{name}.1")), page));
        }
        out
    }

    #[test]
    fn generated_completions_and_man_pages_are_current() {
        let bless = std::env::var_os("SQLVAULT_BLESS").is_some();
        let mut stale = Vec::new();
        for (path, want) in files() {
            if std::fs::read(&path).ok().as_deref() != Some(&want[..]) {
                if bless {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, &want).unwrap();
                } else {
                    stale.push(path.display().to_string());
                }
            }
        }
        assert!(
            stale.is_empty(),
            "out of date: {}; run `SQLVAULT_BLESS=1 cargo test generated` and commit the result",
            stale.join(", ")
        );
    }
}
