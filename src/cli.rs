//! Command-line interface (placeholder while the scanner lands).
pub fn main() -> i32 {
    0
}
