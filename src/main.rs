mod cli;

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`sqlvault points --json | head`), as
    // command-line tools do, instead of panicking on the next print.
    // SAFETY: setting a signal disposition to its default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    one_malloc_arena();
    let parsed = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help and version to stdout with code 0, misuse with 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    sqlvault::interrupt::install();
    let code = match cli::run(parsed) {
        Ok(code) => code,
        Err(e) => {
            cli::print_error(&e);
            e.kind.exit_code()
        }
    };
    std::process::exit(code);
}

/// glibc gives each thread that allocates an arena of its own and keeps
/// what is freed there, so a long restore's peak memory grew with the
/// database (107 MiB at 256 MiB, 146 MiB at 2 GiB). Our threads allocate
/// large buffers, seldom, so one shared arena costs no measurable time and
/// keeps the peak flat. `MALLOC_ARENA_MAX`, when set, still decides.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
