use clap::Parser;

use hashflops::cli::{Cli, Command};
use hashflops::error::{exit, exit_code, is_broken_pipe};

fn main() {
    hashflops::gpu::quiet_driver_environment();
    quiet_on_closed_stdout();
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
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(e) if is_broken_pipe(&e) => std::process::exit(exit::OK),
        Err(e) => {
            // One line, whatever the cause; the code says which kind: 2 for
            // what the user can fix, 1 for a device, driver or internal
            // failure.
            let msg = format!("{e:#}");
            let one_line: Vec<&str> = msg.split_whitespace().collect();
            eprintln!("hashflops: error: {}", clip_typed(one_line.join(" ")));
            std::process::exit(exit_code(&e));
        }
    }
}

/// Output goes through `writeln!` on a locked stdout, and a write that
/// finds the reader gone (`hashflops cards | head -1`) comes back as an
/// error that `main` turns into a quiet exit 0. This hook is the net under
/// that: a `print!` anywhere that meets a closed stdout panics with
/// "failed printing to stdout: Broken pipe", and here that ends the process
/// quietly with 0 too, instead of a panic message and 101.
///
/// Restoring SIGPIPE's default action instead would end the process by the
/// signal (status 141 in a shell, no exit code), possibly halfway through
/// writing a `--json` file after `--csv -`, and only on Unix.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout")
            && (msg.contains("Broken pipe") || msg.contains("os error 32"))
        {
            std::process::exit(exit::OK);
        }
        default(info);
    }));
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
