fn main() -> std::process::ExitCode {
    rehearse::main()
}
