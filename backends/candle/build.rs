// Record the flags llama.cpp was built with (target-cpu=native turns on GGML_NATIVE in
// llama-cpp-sys-2), so every manifest says which build produced its numbers.
fn main() {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS")
        .unwrap_or_default()
        .replace('\x1f', " ");
    let flags = if flags.is_empty() {
        "(none)".to_string()
    } else {
        flags
    };
    println!("cargo:rustc-env=FCBENCH_RUSTFLAGS={flags}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}
