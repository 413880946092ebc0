use clap::Parser;

use hashflops::cli::{Cli, Command};
use hashflops::error::{exit, UsageError};

fn main() {
    hashflops::gpu::quiet_driver_environment();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                std::process::exit(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        exit::USAGE
                    } else {
                        exit::OK
                    },
                );
            }
            // One line: clap's message up to its first blank line (which
            // may name the missing arguments on lines of their own), without
            // the usage block and tips that follow.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .flat_map(str::split_whitespace)
                .collect();
            let message = match message.join(" ") {
                m if m.is_empty() => "invalid arguments".to_string(),
                m => m,
            };
            eprintln!("hashflops: {message} (see --help)");
            std::process::exit(exit::USAGE);
        }
    };
    let result = match cli.command {
        Command::List(a) => hashflops::app::list(a),
        Command::Run(a) => hashflops::app::run(a),
        Command::Mine(a) => hashflops::app::mine(a),
        Command::Compare(a) => hashflops::app::compare(a),
        Command::Cards(a) => hashflops::app::cards(a),
        Command::Health(a) => hashflops::app::health(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let msg = format!("{e:#}");
            // Usage and environment errors are the expected kind; anything
            // else is still reported on one line, with the same exit code,
            // since it also means no trustworthy result was produced.
            let prefix = if e.downcast_ref::<UsageError>().is_some() {
                "error"
            } else {
                "error (internal)"
            };
            let one_line: Vec<&str> = msg.split_whitespace().collect();
            eprintln!("hashflops: {prefix}: {}", one_line.join(" "));
            std::process::exit(exit::USAGE);
        }
    }
}
