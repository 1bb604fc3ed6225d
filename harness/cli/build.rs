// Stamp the binary with the commit it was built from; every manifest records it. A binary
// that loads llama.cpp as shared libraries looks for them beside itself first ($ORIGIN, as a
// RUNPATH, so LD_LIBRARY_PATH still wins: that is how a GPU build of the libraries is chosen).
fn main() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let commit = git(&["describe", "--always", "--dirty", "--abbrev=12"]).unwrap_or_default();
    println!("cargo:rustc-env=FCBENCH_GIT_COMMIT={}", commit.trim());
    // Re-stamp when the commit, the index or any tracked file changes: an edit that is not
    // staged still makes the build `-dirty`. The absolute git dir is a worktree's own, if it is one.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = dir.trim();
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
    }
    if let (Some(top), Some(files)) = (
        git(&["rev-parse", "--show-toplevel"]),
        git(&["ls-files", "-z"]),
    ) {
        for f in files.split('\0').filter(|f| !f.is_empty()) {
            println!("cargo:rerun-if-changed={}/{f}", top.trim());
        }
    }
    if std::env::var_os("CARGO_FEATURE_LLAMA_SHARED").is_some()
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        println!("cargo:rustc-link-arg-bins=-Wl,--enable-new-dtags,-rpath,$ORIGIN");
    }
}
