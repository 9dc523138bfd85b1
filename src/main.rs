mod cli;

use clap::Parser;

fn main() {
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
