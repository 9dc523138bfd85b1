mod cli;

use clap::Parser;

fn main() {
    // A closed pipe or connection is an error of what wrote to it, never a
    // death by signal: a backup whose log reader went away still finishes
    // and records its session, and a worker outlives a dropped connection.
    // Output goes through `outln!`/`errln!`, which ignore a closed stdout.
    // SAFETY: setting a signal disposition to "ignore" is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    tune_malloc();
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

/// How glibc's allocator is set up, unless its own variables say otherwise.
///
/// - One arena: glibc gives each thread that allocates an arena of its own
///   and keeps what is freed there, so a long restore's peak memory grew
///   with the database (107 MiB at 256 MiB, 146 MiB at 2 GiB). Our threads
///   allocate large buffers, seldom, so sharing one costs no measurable time.
/// - Freed buffers kept for reuse: by default a buffer of a few MiB is
///   mapped fresh and returned to the system each time, and every page is
///   faulted in and zeroed again; a SQLite restore spent more time in the
///   kernel (1.2-1.6 s) than `zstd -d` of the same data (0.5 s) doing it.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (var, param, value) in [
        ("MALLOC_ARENA_MAX", libc::M_ARENA_MAX, 1),
        ("MALLOC_MMAP_THRESHOLD_", libc::M_MMAP_THRESHOLD, 64 << 20),
        ("MALLOC_TRIM_THRESHOLD_", libc::M_TRIM_THRESHOLD, 256 << 20),
    ] {
        if std::env::var_os(var).is_none() {
            // SAFETY: called first in main, before any other thread exists.
            unsafe {
                libc::mallopt(param, value);
            }
        }
    }
}
