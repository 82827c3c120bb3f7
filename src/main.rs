fn main() -> std::process::ExitCode {
    ifd_batch::cli::main()
}
