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
            eprintln!("hashflops: {} (see --help)", clip_typed(message));
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
            eprintln!("hashflops: {prefix}: {}", clip_typed(one_line.join(" ")));
            std::process::exit(exit::USAGE);
        }
    }
}

/// An error line with every long piece of the command line in it (an
/// argument, the value after `--flag=`, one item of a comma list) cut to
/// its start by [`hashflops::cli::typed`]: errors raised outside this
/// crate's own checks (clap's, and any that repeat a value whole) stay
/// short however long the input.
fn clip_typed(mut line: String) -> String {
    use hashflops::cli::{typed, MAX_ECHO_CHARS};
    let mut long: Vec<String> = Vec::new();
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy().into_owned();
        let mut pieces = vec![arg.clone()];
        if let (true, Some((_, value))) = (arg.starts_with('-'), arg.split_once('=')) {
            pieces.push(value.to_string());
        }
        pieces.extend(arg.split(',').map(|p| p.trim().to_string()));
        long.extend(
            pieces
                .into_iter()
                .filter(|p| p.chars().count() > MAX_ECHO_CHARS),
        );
    }
    // Longest first: a piece is never cut inside a longer one's start.
    long.sort_by_key(|p| std::cmp::Reverse(p.len()));
    long.dedup();
    for p in &long {
        line = line.replace(&format!("{p:?}"), &format!("{:?}", typed(p)));
        line = line.replace(&format!("'{p}'"), &format!("{:?}", typed(p)));
        line = line.replace(p.as_str(), &typed(p).to_string());
    }
    line
}
