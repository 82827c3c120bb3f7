//! `ifd-batch profile`: measure where evaluation blocks on builds
//! (placeholder; being implemented).

/// Arguments of `ifd-batch profile`.
#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    /// The Nix command to run, after `--`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Run `ifd-batch profile`; returns the exit code.
pub fn run(_args: ProfileArgs) -> i32 {
    eprintln!("error: profile is not implemented yet");
    2
}
