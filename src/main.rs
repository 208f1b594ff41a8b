//! The `cognate` binary: the server and its admin command line.

fn main() -> std::process::ExitCode {
    cognate::cli::main()
}
