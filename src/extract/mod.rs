//! `ifd-batch extract`: one-pass extraction of listed members (placeholder;
//! being implemented).

/// Arguments of `ifd-batch extract`.
#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// The archive (.tar.gz, .tar) or an unpacked directory.
    pub archive: std::path::PathBuf,
}

/// Run `ifd-batch extract`; returns the exit code.
pub fn run(_args: ExtractArgs) -> i32 {
    eprintln!("error: extract is not implemented yet");
    2
}
