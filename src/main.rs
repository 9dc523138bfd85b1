mod cli;

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`sqlvault points --json | head`), as
    // command-line tools do, instead of panicking on the next print.
    // SAFETY: setting a signal disposition to its default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
