//! The reference county platform: `county-platform serve | review | import-base | open`.

fn main() -> std::process::ExitCode {
    county_platform::cli::main()
}
