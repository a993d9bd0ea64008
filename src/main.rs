fn main() -> std::process::ExitCode {
    veteran_kiosk::cli::main()
}
