//! The `reeplan` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    reeplan::cli::main()
}
