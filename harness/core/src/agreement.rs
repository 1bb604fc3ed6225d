//! What the backends' agreement tests against llama.cpp share: the fixed prompts, finding a
//! cached model or the SimpleTool fixtures (or saying why the test skips), and comparing two
//! logits rows. Behind the `test-support` feature: test code only.

use crate::backend::{BackendError, BatchEntry, TokenBackend, TokenId};
use crate::models::{self, ResolvedModel};

/// A ChatML prompt for llama-architecture models (SmolLM2).
pub const CHATML_PROMPT: &str = "<|im_start|>system\nYou control a tower-defence game. Call place_tower(tower_type, x, y) to build.<|im_end|>\n<|im_start|>user\nPut a cannon tower at column 5, row 7.<|im_end|>\n<|im_start|>assistant\n";
/// The same request in Gemma's turn format.
pub const GEMMA_PROMPT: &str = "<start_of_turn>user\nYou control a tower-defence game. Call place_tower(tower_type, x, y) to build.\nPut a cannon tower at column 5, row 7.<end_of_turn>\n<start_of_turn>model\n";

/// Head tails of different token lengths, for the forked-heads checks.
pub const HEAD_TAILS: [&str; 3] = ["<function>", "<arg1> tower", "<arg2>"];

/// A Gemma prompt of over 1,300 tokens, well past Gemma 3's 512-token sliding window, whose
/// question needs an early line.
pub fn long_gemma_prompt() -> String {
    let mut text = String::from("<start_of_turn>user\nHere is a log of tower placements:\n");
    for i in 0..60 {
        text.push_str(&format!(
            "{i}. place_tower(tower_type=\"{}\", x={}, y={})\n",
            ["cannon", "archer", "mage"][i % 3],
            i % 9,
            (i * 7) % 11
        ));
    }
    text.push_str("What was the tower type of entry 3?<end_of_turn>\n<start_of_turn>model\n");
    text
}

/// Top-1 equal, or a near-tie: the reference's own margin between the two tokens is below
/// `near_tie` and the other engine ranks the reference's token second.
pub fn top1_agrees(reference: &[f32], other: &[f32], near_tie: f32) -> bool {
    let (r, o) = (argmax(reference), argmax(other));
    r == o || (reference[r] - reference[o] < near_tie && top2(other).contains(&r))
}

/// Forced decoding of two engines along the reference's greedy path.
#[derive(Debug, Clone)]
pub struct ForcedAgreement {
    pub steps: usize,
    /// Steps where the other engine's argmax equalled the reference's.
    pub agreed: usize,
    pub min_cosine: f64,
    /// Where they differed: the reference's logit margin between its token and the other's.
    pub margins: Vec<f32>,
}

impl ForcedAgreement {
    pub fn share(&self) -> f64 {
        self.agreed as f64 / self.steps as f64
    }
}

/// Both engines hold the same prompt in sequence 0, `pos` tokens long, with its logits in row
/// 0; feed both the reference's greedy token for `steps` steps.
pub fn forced_agreement(
    reference: &mut dyn TokenBackend,
    other: &mut dyn TokenBackend,
    pos: u32,
    steps: usize,
) -> Result<ForcedAgreement, BackendError> {
    let mut out = ForcedAgreement {
        steps,
        agreed: 0,
        min_cosine: 1.0,
        margins: Vec::new(),
    };
    for pos in pos..pos + steps as u32 {
        let (r, o) = (argmax(reference.logits(0)), argmax(other.logits(0)));
        if r == o {
            out.agreed += 1;
        } else {
            out.margins
                .push(reference.logits(0)[r] - reference.logits(0)[o]);
        }
        let e = [BatchEntry {
            seq: 0,
            pos,
            token: r as TokenId,
            logits: true,
        }];
        reference.step(&e)?;
        other.step(&e)?;
        out.min_cosine = out
            .min_cosine
            .min(cosine(reference.logits(0), other.logits(0)));
    }
    Ok(out)
}

/// Logits of heads forked from one prefilled prompt.
#[derive(Debug, Clone)]
pub struct ForkedHeads {
    /// After each head's tail, all tails in one batch.
    pub forked: Vec<Vec<f32>>,
    /// Each head's argmax after its tail, fed back in the next step.
    pub next: Vec<TokenId>,
    /// After that next step, every head at its own position in one batch.
    pub stepped: Vec<Vec<f32>>,
}

/// Prefill `prompt` into sequence 0, fork one head per tail, run the tails (of different
/// lengths) in one batch, then one more batched step with each head at its own position.
pub fn forked_heads(
    b: &mut dyn TokenBackend,
    prompt: &[TokenId],
    tails: &[Vec<TokenId>],
) -> Result<ForkedHeads, BackendError> {
    let p = prompt.len() as u32;
    let seq = |h: usize| h as i32 + 1;
    b.prefill(0, 0, prompt)?;
    let mut batch = Vec::new();
    for (h, tail) in tails.iter().enumerate() {
        b.fork(0, seq(h), p)?;
        batch.extend(crate::backend::prefill_batch(seq(h), p, tail));
    }
    b.step(&batch)?;
    let forked: Vec<Vec<f32>> = (0..tails.len()).map(|r| b.logits(r).to_vec()).collect();
    let next: Vec<TokenId> = forked.iter().map(|l| argmax(l) as TokenId).collect();
    let step: Vec<BatchEntry> = tails
        .iter()
        .enumerate()
        .map(|(h, tail)| BatchEntry {
            seq: seq(h),
            pos: p + tail.len() as u32,
            token: next[h],
            logits: true,
        })
        .collect();
    b.step(&step)?;
    let stepped = (0..tails.len()).map(|r| b.logits(r).to_vec()).collect();
    Ok(ForkedHeads {
        forked,
        next,
        stepped,
    })
}

/// A test's precondition (a model, a library, fixtures) is missing. Under `CI=true` that fails
/// the test, so a green CI means every test ran; elsewhere it prints `SKIP:` with `reason`
/// (which says how to provide it) and the test returns.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason}; under CI=true a test that cannot run fails instead of skipping");
    }
    eprintln!("SKIP: {reason}");
}

/// A known model if it is already cached (verified), else `None` after [`skip_or_fail`] with
/// the command that fetches it. Tests never download.
pub fn cached_or_skip(name: &str) -> Option<ResolvedModel> {
    let m = models::known(name)?;
    let path = models::model_path(m);
    if !path.exists() {
        skip_or_fail(&format!(
            "{name} is not cached at {} (run `fcbench models fetch {name}`)",
            path.display()
        ));
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

/// Where the SimpleTool reproduction fixtures are: `$FCBENCH_REPRO_DIR`, else the workspace's
/// sibling `shared/data/simpletool-repro` (where CI lays them). `None`, with a printed reason,
/// when they are absent, so tests that need them skip instead of failing on other machines.
pub fn repro_fixtures_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("FCBENCH_REPRO_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data/simpletool-repro")
        });
    if dir.join("results/RT-Qwen3-4B-eager").is_dir() {
        Some(dir)
    } else {
        skip_or_fail(&format!(
            "SimpleTool reproduction fixtures not found at {} (set FCBENCH_REPRO_DIR)",
            dir.display()
        ));
        None
    }
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
