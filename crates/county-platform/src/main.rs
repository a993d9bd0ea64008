//! The reference county platform: `county-platform serve | review | import-base | user | load | open`.

fn main() -> std::process::ExitCode {
    county_platform::cli::main()
}
