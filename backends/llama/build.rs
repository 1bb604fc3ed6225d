// Record how this binary was built (the Rust flags, among them the target CPU, which in
// llama-cpp-sys-2 also decides GGML_NATIVE), so every manifest says which build produced its
// numbers; and refuse a shared-library build for this machine's CPU only, since such a binary
// is meant to move to another host (a GPU machine).
fn main() {
    let encoded = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags = if encoded.is_empty() {
        "(none)".to_string()
    } else {
        encoded.replace('\x1f', " ")
    };
    let target_cpu = encoded
        .split('\x1f')
        .filter_map(|f| f.split("target-cpu=").nth(1))
        .next_back()
        .unwrap_or("(default)")
        .to_string();
    let shared = std::env::var_os("CARGO_FEATURE_SHARED").is_some();
    if shared && target_cpu == "native" && std::env::var_os("FCBENCH_ALLOW_NATIVE").is_none() {
        panic!(
            "fcbench-llama `shared`: a binary that loads llama.cpp as shared libraries is meant to \
             move between hosts, but this build targets this machine's CPU only \
             (target-cpu=native, from .cargo/config.toml or RUSTFLAGS). Build it with \
             RUSTFLAGS=\"-C target-cpu=x86-64-v3\" (or another portable level), as \
             ci/gpu/build-fcbench.sh does; set FCBENCH_ALLOW_NATIVE=1 to build for this CPU anyway."
        );
    }
    // llama-cpp-sys-2 compiles llama.cpp as LLAMA_LIB_PROFILE says, else RelWithDebInfo when
    // the profile has debug info (-O2 -g), else Release (-O3): recorded, since it moves speed.
    let llama_profile = std::env::var("LLAMA_LIB_PROFILE").unwrap_or_else(|_| {
        if std::env::var("DEBUG").as_deref() == Ok("true") {
            "RelWithDebInfo".into()
        } else {
            "Release".into()
        }
    });
    println!("cargo:rustc-env=FCBENCH_LLAMA_PROFILE={llama_profile}");
    println!("cargo:rerun-if-env-changed=LLAMA_LIB_PROFILE");
    println!("cargo:rustc-env=FCBENCH_RUSTFLAGS={flags}");
    println!("cargo:rustc-env=FCBENCH_TARGET_CPU={target_cpu}");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo:rerun-if-env-changed=FCBENCH_ALLOW_NATIVE");
}
