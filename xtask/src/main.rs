//! `cargo xtask`: SKELETON (the test harness replaces this file); only the
//! `qemu` subcommand is wired here, for the bare-metal host.
mod qemu;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("qemu") => qemu::main(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask qemu [OPTIONS] PROGRAM [ARGS]...");
            std::process::ExitCode::from(2)
        }
    }
}
