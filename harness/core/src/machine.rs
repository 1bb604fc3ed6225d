//! Facts about the machine a run happened on.

use crate::record::{GpuInfo, MachineInfo};

pub fn machine_info() -> MachineInfo {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    let cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    MachineInfo {
        hostname: sysinfo::System::host_name().unwrap_or_default(),
        os: sysinfo::System::long_os_version().unwrap_or_else(|| std::env::consts::OS.into()),
        cpu_model,
        cpu_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: sys.total_memory(),
        gpus: gpus(),
    }
}

/// GPUs from `nvidia-smi`, when it is installed and answers (none otherwise: a machine without
/// the tool is recorded without GPUs, and each arm's placement still says where it ran).
pub fn gpus() -> Vec<GpuInfo> {
    let run = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("nvidia-smi")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(list) = run(&[
        "--query-gpu=name,memory.total,driver_version",
        "--format=csv,noheader,nounits",
    ]) else {
        return Vec::new();
    };
    let runtime = run(&[]).and_then(|banner| parse_cuda_version(&banner));
    parse_nvidia_smi(&list, runtime.as_deref())
}

/// Rows of `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`.
fn parse_nvidia_smi(csv: &str, runtime: Option<&str>) -> Vec<GpuInfo> {
    csv.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            GpuInfo {
                name: f.first().copied().unwrap_or("unknown").to_string(),
                memory_bytes: f
                    .get(1)
                    .and_then(|m| m.parse::<u64>().ok())
                    .map(|mib| mib << 20),
                driver: f.get(2).map(|d| d.to_string()).filter(|d| !d.is_empty()),
                runtime: runtime.map(|r| format!("CUDA {r}")),
                source: "nvidia-smi".into(),
            }
        })
        .collect()
}

/// `CUDA Version: 13.0` from nvidia-smi's banner.
fn parse_cuda_version(banner: &str) -> Option<String> {
    let rest = banner.split("CUDA Version:").nth(1)?;
    rest.split_whitespace()
        .next()
        .map(|v| v.trim_end_matches('|').to_string())
}

/// SHA-256 of a byte string, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, hex, streamed.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_rows_become_gpus_with_memory_driver_and_cuda_version() {
        let banner =
            "| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0     |";
        let rt = parse_cuda_version(banner);
        assert_eq!(rt.as_deref(), Some("13.0"));
        let g = parse_nvidia_smi("NVIDIA H200, 143771, 580.159.04\n", rt.as_deref());
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].name, "NVIDIA H200");
        assert_eq!(g[0].memory_bytes, Some(143771 << 20));
        assert_eq!(
            g[0].describe(),
            "NVIDIA H200 (140 GiB, driver 580.159.04, CUDA 13.0)"
        );
        assert!(parse_nvidia_smi("", None).is_empty());
    }
}
