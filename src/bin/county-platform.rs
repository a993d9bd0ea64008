//! The reference county platform: `county-platform serve | review | import-base | open`.

fn main() -> std::process::ExitCode {
    veteran_kiosk::platform::cli::main()
}
