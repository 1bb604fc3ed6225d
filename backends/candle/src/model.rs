//! The forward pass, written on candle ops rather than candle-transformers' stock quantised
//! models: those keep one position per batch, so heads at different positions (tags of
//! different lengths, heads stopping independently) could not share one batched step.
//!
//! Matmuls run over all rows of a step at once (quantised weights, candle's CPU kernels);
//! attention runs per sequence, except that key/value segments every sequence of the step
//! shares (the prompt prefilled once) are attended in one batched pass and merged with each
//! head's own segment by the log-sum-exp rule, so the prefix is neither copied nor recomputed.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor, D};
use fcbench_core::backend::WeightMode;
use fcbench_gguf::{Arch, ArchConfig, GgufError, GgufModel};
use std::sync::Arc;

pub(crate) type CResult<T> = candle_core::Result<T>;

pub(crate) struct Layer {
    attn_norm: Tensor,
    wq: QMatMul,
    wk: QMatMul,
    wv: QMatMul,
    wo: QMatMul,
    q_norm: Option<Tensor>,
    k_norm: Option<Tensor>,
    post_attn_norm: Option<Tensor>,
    ffn_norm: Tensor,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
    post_ffn_norm: Option<Tensor>,
    /// Index into [`Weights::rope`].
    rope: usize,
    local: bool,
}

/// cos/sin tables `[positions, head_dim / 2]` for one rotary base.
pub(crate) struct RopeTable {
    cos: Tensor,
    sin: Tensor,
}

pub(crate) struct Weights {
    pub cfg: ArchConfig,
    embd: Arc<QTensor>,
    layers: Vec<Layer>,
    output_norm: Tensor,
    output: QMatMul,
    rope: Vec<RopeTable>,
    logit_softcap: Option<f32>,
    /// Tensor types as loaded, for the manifest (`q4_1×210, f32×61, …`).
    pub dtypes: String,
    /// Conversions made at load (`q5_0→f32`): how the weights are held differs from the file.
    pub converted: Vec<String>,
}

fn load_err(m: &GgufModel, name: &str, e: candle_core::Error) -> GgufError {
    GgufError::Tensor {
        path: m.path.display().to_string(),
        name: name.into(),
        reason: fcbench_gguf::candle_reason(&e),
    }
}

/// How one weight matrix of a given stored type is held (see [`WeightMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Stored,
    F32,
    F16,
    Q8_0,
}

impl Held {
    /// `auto`, measured on a 2-core AVX2 CPU (README "candle"): types candle has no SIMD
    /// kernel for (Q4_1, Q5_0, Q5_1) run fastest dequantised to f32 — prefill becomes a dense
    /// GEMM, several times faster than the unvectorised block dot products; types with SIMD
    /// kernels stay as stored, since a decode step is memory-bound and f32 would read 4–6×
    /// the bytes (the tied 262k-row output projection above all).
    pub fn of(mode: WeightMode, dtype: GgmlDType) -> Held {
        if matches!(dtype, GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16) {
            return Held::Stored; // already dense; candle runs it as a tensor
        }
        match mode {
            WeightMode::Auto => {
                if matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1) {
                    Held::F32
                } else {
                    Held::Stored
                }
            }
            WeightMode::Stored => Held::Stored,
            WeightMode::F32 => Held::F32,
            WeightMode::F16 => Held::F16,
            WeightMode::Q8_0 => {
                if dtype == GgmlDType::Q8_0 {
                    Held::Stored
                } else {
                    Held::Q8_0
                }
            }
        }
    }

    fn label(self) -> Option<&'static str> {
        match self {
            Held::Stored => None,
            Held::F32 => Some("f32"),
            Held::F16 => Some("f16"),
            Held::Q8_0 => Some("q8_0"),
        }
    }

    fn matmul(self, t: QTensor) -> CResult<QMatMul> {
        Ok(match self {
            Held::Stored => QMatMul::from_qtensor(t)?,
            Held::F32 => QMatMul::Tensor(t.dequantize(&Device::Cpu)?),
            Held::F16 => QMatMul::TensorF16(t.dequantize_f16(&Device::Cpu)?),
            Held::Q8_0 => QMatMul::from_qtensor(QTensor::quantize(
                &t.dequantize(&Device::Cpu)?,
                GgmlDType::Q8_0,
            )?)?,
        })
    }
}

impl Weights {
    pub fn load(
        m: &mut GgufModel,
        max_positions: usize,
        mode: WeightMode,
    ) -> Result<Weights, GgufError> {
        let cfg = m.config.clone();
        // Stored type (and how it is held, when converted) → matrices, for the manifest.
        let counts: std::cell::RefCell<std::collections::BTreeMap<String, usize>> =
            Default::default();
        let count = |dtype: GgmlDType, held: Held| {
            let mut k = format!("{dtype:?}").to_lowercase();
            if let Some(l) = held.label() {
                k = format!("{k}→{l}");
            }
            *counts.borrow_mut().entry(k).or_default() += 1;
        };
        let q = |m: &mut GgufModel, name: &str| -> Result<QTensor, GgufError> {
            let t = m.qtensor(name)?;
            count(t.dtype(), Held::Stored);
            Ok(t)
        };
        let mat = |m: &mut GgufModel, name: &str| -> Result<QMatMul, GgufError> {
            let t = m.qtensor(name)?;
            let held = Held::of(mode, t.dtype());
            count(t.dtype(), held);
            held.matmul(t).map_err(|e| load_err(m, name, e))
        };
        let vec = |m: &mut GgufModel, name: &str| -> Result<Tensor, GgufError> {
            let t = m.qtensor(name)?;
            t.dequantize(&Device::Cpu).map_err(|e| load_err(m, name, e))
        };
        let opt_vec = |m: &mut GgufModel, name: &str| -> Result<Option<Tensor>, GgufError> {
            if m.has_tensor(name) {
                vec(m, name).map(Some)
            } else {
                Ok(None)
            }
        };

        let mut thetas: Vec<(f32, f32)> = Vec::new();
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for il in 0..cfg.n_layer {
            let p = |s: &str| format!("blk.{il}.{s}.weight");
            let key = (cfg.rope_theta_of(il), cfg.rope_scale_of(il));
            let rope = match thetas.iter().position(|t| *t == key) {
                Some(i) => i,
                None => {
                    thetas.push(key);
                    thetas.len() - 1
                }
            };
            layers.push(Layer {
                attn_norm: vec(m, &p("attn_norm"))?,
                wq: mat(m, &p("attn_q"))?,
                wk: mat(m, &p("attn_k"))?,
                wv: mat(m, &p("attn_v"))?,
                wo: mat(m, &p("attn_output"))?,
                q_norm: opt_vec(m, &p("attn_q_norm"))?,
                k_norm: opt_vec(m, &p("attn_k_norm"))?,
                post_attn_norm: opt_vec(m, &p("post_attention_norm"))?,
                ffn_norm: vec(m, &p("ffn_norm"))?,
                gate: mat(m, &p("ffn_gate"))?,
                up: mat(m, &p("ffn_up"))?,
                down: mat(m, &p("ffn_down"))?,
                post_ffn_norm: opt_vec(m, &p("post_ffw_norm"))?,
                rope,
                local: cfg.is_local(il),
            });
        }
        let embd = Arc::new(q(m, "token_embd.weight")?);
        let output = if m.has_tensor("output.weight") {
            mat(m, "output.weight")?
        } else {
            // Tied: the embedding table is the output projection too.
            let held = Held::of(mode, embd.dtype());
            match held {
                Held::Stored => QMatMul::from_arc(embd.clone()),
                _ => {
                    let t = m.qtensor("token_embd.weight")?;
                    count(t.dtype(), held);
                    held.matmul(t)
                }
            }
            .map_err(|e| load_err(m, "token_embd.weight", e))?
        };
        let output_norm = vec(m, "output_norm.weight")?;
        let rope = thetas
            .iter()
            .map(|&(theta, scale)| RopeTable::new(theta, scale, cfg.head_dim, max_positions))
            .collect::<CResult<Vec<_>>>()
            .map_err(|e| load_err(m, "rope tables", e))?;
        let logit_softcap = m
            .content
            .metadata
            .get(&format!("{}.final_logit_softcapping", cfg.arch_name))
            .and_then(|v| v.to_f32().ok())
            .filter(|c| *c > 0.0);
        let counts = counts.into_inner();
        let dtypes = counts
            .iter()
            .map(|(k, n)| format!("{k}×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let converted = counts.into_keys().filter(|k| k.contains('→')).collect();
        Ok(Weights {
            cfg,
            embd,
            layers,
            output_norm,
            output,
            rope,
            logit_softcap,
            dtypes,
            converted,
        })
    }

    /// Do any weights use a type without a fast candle CPU kernel (as held)?
    pub fn slow_types(&self) -> Vec<GgmlDType> {
        let mut out = Vec::new();
        for l in &self.layers {
            for w in [&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down] {
                if let QMatMul::QTensor(t) = w {
                    let d = t.dtype();
                    if matches!(d, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
                        && !out.contains(&d)
                    {
                        out.push(d);
                    }
                }
            }
        }
        out
    }
}

impl RopeTable {
    /// llama.cpp's rotary angles: θ_i = pos · scale · base^(−2i/d).
    fn new(theta: f32, scale: f32, head_dim: usize, positions: usize) -> CResult<RopeTable> {
        let half = head_dim / 2;
        let inv: Vec<f32> = (0..half)
            .map(|i| 1.0 / theta.powf(2.0 * i as f32 / head_dim as f32))
            .collect();
        let mut cos = Vec::with_capacity(positions * half);
        let mut sin = Vec::with_capacity(positions * half);
        for p in 0..positions {
            for f in &inv {
                let a = p as f32 * scale * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        Ok(RopeTable {
            cos: Tensor::from_vec(cos, (positions, half), &Device::Cpu)?,
            sin: Tensor::from_vec(sin, (positions, half), &Device::Cpu)?,
        })
    }
}

/// A run of consecutive positions of one sequence's keys and values, `[n_head_kv, n, head_dim]`.
/// Forked sequences share segments (candle tensors are reference-counted), so a fork costs
/// nothing and the prefix exists once.
#[derive(Clone)]
pub(crate) struct Segment {
    pub start: u32,
    pub k: Tensor,
    pub v: Tensor,
    /// Written by this sequence since its fork: new tokens extend it rather than start a
    /// segment of their own.
    pub owned: bool,
}

impl Segment {
    pub fn len(&self) -> u32 {
        self.k.dim(1).unwrap_or(0) as u32
    }
    fn same_as(&self, o: &Segment) -> bool {
        self.start == o.start && self.len() == o.len() && self.k.id() == o.k.id()
    }
}

/// One sequence's cache: segments per layer, in position order.
#[derive(Clone, Default)]
pub(crate) struct SeqCache {
    pub len: u32,
    pub layers: Vec<Vec<Segment>>,
}

impl SeqCache {
    pub fn truncate(&mut self, from: u32) -> CResult<()> {
        for segs in &mut self.layers {
            segs.retain(|s| s.start < from);
            if let Some(last) = segs.last_mut() {
                let keep = (from - last.start).min(last.len());
                if keep < last.len() {
                    last.k = last.k.narrow(1, 0, keep as usize)?;
                    last.v = last.v.narrow(1, 0, keep as usize)?;
                }
            }
        }
        self.len = self.len.min(from);
        Ok(())
    }

    /// Positions `0..len`, sharing storage; nothing in the copy is owned.
    pub fn fork(&self, len: u32) -> CResult<SeqCache> {
        let mut c = self.clone();
        c.truncate(len)?;
        for segs in &mut c.layers {
            for s in segs {
                s.owned = false;
            }
        }
        Ok(c)
    }
}

/// Consecutive rows of one forward pass that belong to one sequence; the `i`-th group's
/// cache is `caches[i]`.
pub(crate) struct Group {
    pub rows: std::ops::Range<usize>,
    pub first_pos: u32,
}

/// −∞ where a query may not see a key (after it, or outside a local layer's window); `None`
/// when every key is visible.
fn mask(qpos: &[u32], kstart: u32, klen: usize, window: Option<usize>) -> CResult<Option<Tensor>> {
    let visible = |q: u32, k: u32| k <= q && window.is_none_or(|w| ((q - k) as usize) < w);
    let all = qpos
        .iter()
        .all(|&q| visible(q, kstart) && visible(q, kstart + klen as u32 - 1));
    if all || klen == 0 {
        return Ok(None);
    }
    let mut m = Vec::with_capacity(qpos.len() * klen);
    for &q in qpos {
        for j in 0..klen as u32 {
            m.push(if visible(q, kstart + j) {
                0f32
            } else {
                f32::NEG_INFINITY
            });
        }
    }
    Tensor::from_vec(m, (qpos.len(), klen), &Device::Cpu).map(Some)
}

/// Unnormalised attention over a set of keys: Σ e·v, Σ e and the max score, with
/// e = exp(score − max), so that parts over disjoint key sets merge exactly.
struct Partial {
    o: Tensor,
    z: Tensor,
    max: Tensor,
}

impl Partial {
    /// Attention of `q` `[kv, g, t, d]` over one segment's keys/values `[kv, l, d]`.
    fn over(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> CResult<Partial> {
        let (kv, g, t, d) = q.dims4()?;
        let l = k.dim(1)?;
        let s = q
            .reshape((kv, g * t, d))?
            .matmul(&k.t()?)?
            .reshape((kv, g, t, l))?;
        let s = match mask {
            Some(m) => s.broadcast_add(m)?,
            None => s,
        };
        // A row that sees no key of this segment (all −∞) gets max −1e30, so e = 0 and the
        // merge gives it zero weight instead of NaN.
        let max = s.max_keepdim(D::Minus1)?.clamp(-1e30f32, f32::INFINITY)?;
        let e = s.broadcast_sub(&max)?.exp()?;
        let z = e.sum_keepdim(D::Minus1)?;
        let o = e
            .reshape((kv, g * t, l))?
            .matmul(v)?
            .reshape((kv, g, t, d))?;
        Ok(Partial { o, z, max })
    }

    /// Over several segments in position order; `qpos` are the queries' positions.
    fn over_segments(
        q: &Tensor,
        segs: &[Segment],
        qpos: &[u32],
        window: Option<usize>,
    ) -> CResult<Option<Partial>> {
        let mut acc: Option<Partial> = None;
        for s in segs {
            let m = mask(qpos, s.start, s.len() as usize, window)?;
            let p = Partial::over(q, &s.k, &s.v, m.as_ref())?;
            acc = Some(match acc {
                Some(a) => a.merge(p)?,
                None => p,
            });
        }
        Ok(acc)
    }

    fn narrow_rows(&self, start: usize, len: usize) -> CResult<Partial> {
        Ok(Partial {
            o: self.o.narrow(2, start, len)?,
            z: self.z.narrow(2, start, len)?,
            max: self.max.narrow(2, start, len)?,
        })
    }

    fn merge(self, b: Partial) -> CResult<Partial> {
        let m = self.max.maximum(&b.max)?;
        let fa = self.max.broadcast_sub(&m)?.exp()?;
        let fb = b.max.broadcast_sub(&m)?.exp()?;
        Ok(Partial {
            o: (self.o.broadcast_mul(&fa)? + b.o.broadcast_mul(&fb)?)?,
            z: ((self.z * fa)? + (b.z * fb)?)?,
            max: m,
        })
    }

    fn normalised(self) -> CResult<Tensor> {
        self.o.broadcast_div(&self.z)
    }
}

impl Weights {
    /// One forward pass over `tokens` at `positions`, grouped by sequence. New keys/values are
    /// appended to each group's cache. Returns the logits of `logit_rows`, `[rows, vocab]`.
    pub fn forward(
        &self,
        tokens: &[u32],
        positions: &[u32],
        groups: &[Group],
        caches: &mut [&mut SeqCache],
        logit_rows: &[u32],
    ) -> CResult<Option<Tensor>> {
        let cfg = &self.cfg;
        let n = tokens.len();
        let (h, hkv, d) = (cfg.n_head, cfg.n_head_kv, cfg.head_dim);
        let gq = h / hkv;
        let dev = Device::Cpu;
        let ids = Tensor::new(tokens, &dev)?;
        let pos = Tensor::new(positions, &dev)?;
        let mut x = self.embd.embedding(&ids)?;
        if cfg.embed_scale != 1.0 {
            x = (x * cfg.embed_scale as f64)?;
        }
        // Per rotary table, cos/sin rows for this pass's positions.
        let cs: Vec<(Tensor, Tensor)> = self
            .rope
            .iter()
            .map(|r| Ok((r.cos.index_select(&pos, 0)?, r.sin.index_select(&pos, 0)?)))
            .collect::<CResult<_>>()?;
        let rope = |t: &Tensor, table: usize| -> CResult<Tensor> {
            let (c, s) = &cs[table];
            match cfg.arch {
                Arch::Llama => candle_nn::rotary_emb::rope_i(t, c, s),
                Arch::Gemma3 => candle_nn::rotary_emb::rope(t, c, s),
            }
        };
        for (il, l) in self.layers.iter().enumerate() {
            let hn = candle_nn::ops::rms_norm(&x, &l.attn_norm, cfg.rms_eps)?;
            let mut q = l.wq.forward(&hn)?.reshape((n, h, d))?;
            let mut k = l.wk.forward(&hn)?.reshape((n, hkv, d))?;
            let v = l.wv.forward(&hn)?.reshape((n, hkv, d))?;
            if let Some(w) = &l.q_norm {
                q = candle_nn::ops::rms_norm(&q, w, cfg.rms_eps)?;
            }
            if let Some(w) = &l.k_norm {
                k = candle_nn::ops::rms_norm(&k, w, cfg.rms_eps)?;
            }
            let q = (q.transpose(0, 1)?.contiguous()?.unsqueeze(0)? * cfg.attn_scale as f64)?;
            let q = rope(&q, l.rope)?.reshape((hkv, gq, n, d))?;
            let k = rope(&k.transpose(0, 1)?.contiguous()?.unsqueeze(0)?, l.rope)?.squeeze(0)?;
            let v = v.transpose(0, 1)?.contiguous()?;
            let window = if l.local { cfg.sliding_window } else { None };

            for (g, c) in groups.iter().zip(caches.iter_mut()) {
                let t = g.rows.len();
                let kg = k.narrow(1, g.rows.start, t)?;
                let vg = v.narrow(1, g.rows.start, t)?;
                let segs = &mut c.layers[il];
                match segs.last_mut() {
                    Some(last) if last.owned && last.start + last.len() == g.first_pos => {
                        last.k = Tensor::cat(&[&last.k, &kg], 1)?;
                        last.v = Tensor::cat(&[&last.v, &vg], 1)?;
                    }
                    _ => segs.push(Segment {
                        start: g.first_pos,
                        k: kg.contiguous()?,
                        v: vg.contiguous()?,
                        owned: true,
                    }),
                }
            }
            // Segments every group shares (the prompt, once) are attended in one pass.
            let shared = if groups.len() > 1 {
                let first = &caches[0].layers[il];
                let mut c = 0;
                while c < first.len()
                    && caches.iter().all(|cache| {
                        cache.layers[il]
                            .get(c)
                            .is_some_and(|s| s.same_as(&first[c]) && !s.owned)
                    })
                {
                    c += 1;
                }
                c
            } else {
                0
            };
            let shared_part = if shared > 0 {
                let segs = &caches[0].layers[il][..shared];
                Partial::over_segments(&q, segs, positions, window)?
            } else {
                None
            };
            let mut outs = Vec::with_capacity(groups.len());
            for (g, cache) in groups.iter().zip(caches.iter()) {
                let t = g.rows.len();
                let segs = &cache.layers[il][shared..];
                let qg = q.narrow(2, g.rows.start, t)?.contiguous()?;
                let own = Partial::over_segments(&qg, segs, &positions[g.rows.clone()], window)?
                    .expect("a group's own segment holds at least its new tokens");
                let p = match &shared_part {
                    Some(sp) => sp.narrow_rows(g.rows.start, t)?.merge(own)?,
                    None => own,
                };
                outs.push(p.normalised()?);
            }
            let o = if outs.len() == 1 {
                outs.pop().unwrap()
            } else {
                Tensor::cat(&outs, 2)?
            };
            // [kv, g, n, d] → [n, h·d]
            let o = o
                .reshape((h, n, d))?
                .transpose(0, 1)?
                .contiguous()?
                .reshape((n, h * d))?;
            let mut a = l.wo.forward(&o)?;
            if let Some(w) = &l.post_attn_norm {
                a = candle_nn::ops::rms_norm(&a, w, cfg.rms_eps)?;
            }
            x = (x + a)?;
            let hn = candle_nn::ops::rms_norm(&x, &l.ffn_norm, cfg.rms_eps)?;
            let gate = l.gate.forward(&hn)?;
            let act = match cfg.arch {
                Arch::Llama => candle_nn::ops::silu(&gate)?,
                Arch::Gemma3 => gate.gelu()?,
            };
            let mut f = l.down.forward(&(act * l.up.forward(&hn)?)?)?;
            if let Some(w) = &l.post_ffn_norm {
                f = candle_nn::ops::rms_norm(&f, w, cfg.rms_eps)?;
            }
            x = (x + f)?;
        }
        for (g, c) in groups.iter().zip(caches.iter_mut()) {
            c.len = g.first_pos + g.rows.len() as u32;
        }
        if logit_rows.is_empty() {
            return Ok(None);
        }
        let rows = Tensor::new(logit_rows, &dev)?;
        let xr = x.index_select(&rows, 0)?;
        let xr = candle_nn::ops::rms_norm(&xr, &self.output_norm, cfg.rms_eps)?;
        let mut logits = self.output.forward(&xr)?;
        if let Some(c) = self.logit_softcap {
            logits = ((logits / c as f64)?.tanh()? * c as f64)?;
        }
        Ok(Some(logits.to_dtype(DType::F32)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_dequantises_only_the_types_candle_has_no_simd_kernel_for() {
        for d in [GgmlDType::Q4_1, GgmlDType::Q5_0, GgmlDType::Q5_1] {
            assert_eq!(Held::of(WeightMode::Auto, d), Held::F32, "{d:?}");
        }
        for d in [
            GgmlDType::Q4_0,
            GgmlDType::Q8_0,
            GgmlDType::Q4K,
            GgmlDType::Q6K,
        ] {
            assert_eq!(Held::of(WeightMode::Auto, d), Held::Stored, "{d:?}");
        }
        // Dense types are never converted; q8_0 is not re-quantised into itself.
        assert_eq!(Held::of(WeightMode::F16, GgmlDType::F32), Held::Stored);
        assert_eq!(Held::of(WeightMode::Q8_0, GgmlDType::Q8_0), Held::Stored);
        assert_eq!(Held::of(WeightMode::Q8_0, GgmlDType::Q4_1), Held::Q8_0);
    }
}
