fn main() {
    std::process::exit(ifd_batch::cli::main());
}
