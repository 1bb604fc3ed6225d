// Stamp the binary with the commit it was built from; every manifest records it. A binary
// that loads llama.cpp as shared libraries looks for them beside itself first ($ORIGIN, as a
// RUNPATH, so LD_LIBRARY_PATH still wins: that is how a GPU build of the libraries is chosen).
fn main() {
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=FCBENCH_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/index");
    if std::env::var_os("CARGO_FEATURE_LLAMA_SHARED").is_some()
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        println!("cargo:rustc-link-arg-bins=-Wl,--enable-new-dtags,-rpath,$ORIGIN");
    }
}
