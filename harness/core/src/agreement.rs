//! What the backends' agreement tests against llama.cpp share: the fixed prompts, finding a
//! cached model (or saying why the test skips), and comparing two logits rows.

use crate::models::{self, ResolvedModel};

/// A ChatML prompt for llama-architecture models (SmolLM2).
pub const CHATML_PROMPT: &str = "<|im_start|>system\nYou control a tower-defence game. Call place_tower(tower_type, x, y) to build.<|im_end|>\n<|im_start|>user\nPut a cannon tower at column 5, row 7.<|im_end|>\n<|im_start|>assistant\n";
/// The same request in Gemma's turn format.
pub const GEMMA_PROMPT: &str = "<start_of_turn>user\nYou control a tower-defence game. Call place_tower(tower_type, x, y) to build.\nPut a cannon tower at column 5, row 7.<end_of_turn>\n<start_of_turn>model\n";

/// A known model if it is already cached (verified), else `None` after printing `SKIP:` with
/// the command that fetches it. Tests never download.
pub fn cached_or_skip(name: &str) -> Option<ResolvedModel> {
    let m = models::known(name)?;
    let path = models::model_path(m);
    if !path.exists() {
        eprintln!(
            "SKIP: {name} is not cached at {} (run `fcbench models fetch {name}`)",
            path.display()
        );
        return None;
    }
    Some(models::resolve(name, &mut |_| {}).expect("a cached model verifies"))
}

/// Index of the first maximum.
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// The two highest entries, highest first.
pub fn top2(v: &[f32]) -> [usize; 2] {
    let a = argmax(v);
    let mut b = usize::from(a == 0);
    for (i, &x) in v.iter().enumerate() {
        if i != a && x > v[b] {
            b = i;
        }
    }
    [a, b]
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += x as f64 * y as f64;
        aa += x as f64 * x as f64;
        bb += y as f64 * y as f64;
    }
    ab / (aa.sqrt() * bb.sqrt())
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_on_known_rows() {
        let a = [1.0, 3.0, 2.0, 3.0];
        assert_eq!(argmax(&a), 1);
        assert_eq!(top2(&a), [1, 3]);
        assert_eq!(top2(&[5.0, 1.0]), [0, 1]);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-12);
        assert_eq!(max_abs_diff(&a, &[1.0, 2.5, 2.0, 4.0]), 1.0);
    }
}
