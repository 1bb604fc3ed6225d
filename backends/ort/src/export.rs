//! GGUF → ONNX exporter (llama and Gemma 3 architectures), written on the `onnx-protobuf` crate's types so
//! that no Python or protoc is needed.
//!
//! The graph is built for shared-prefix heads: the prompt's KV (`prefix_key.L`/`prefix_value.L`)
//! is an input attended by every row *by reference* — one GEMM per KV head over all rows, never
//! tiled per head — while each row's own small KV (`past_key.L`/`past_value.L`) is the state.
//! The graph returns only the KV of the tokens it was given (`new_key.L`/`new_value.L`), so a
//! step never copies the whole cache through the graph. The host supplies an additive attention
//! mask over `[prefix | past | new]` columns, which gives per-row positions and padding for free.
//!
//! Shapes (B rows of S tokens, P prefix and T past positions, R logits rows):
//! - `input_ids`, `position_ids`: `[B, S]` int64; `logit_rows`: `[R]` int64 indexes into B·S
//! - `attn_mask`: `[B, S, 1, P+T+S]` f32 (0 or -inf)
//! - `prefix_key.L`: `[KV, hd, P]` (pre-transposed), `prefix_value.L`: `[KV, P, hd]`
//! - `past_key.L`, `past_value.L`: `[KV, B, T, hd]`
//! - outputs `logits`: `[R, vocab]`; `new_key.L`, `new_value.L`: `[KV, B, S, hd]`

use crate::OrtError;
use fcbench_gguf::{Arch, ArchConfig, GgufModel};
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{dimension, Dimension};
use onnx_protobuf::type_proto::{self, Value as TypeValue};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use std::path::Path;

/// Bumped whenever the graph's interface or maths change; part of the cache key.
pub const EXPORT_VERSION: u32 = 1;
const OPSET: i64 = 17;

struct Graph {
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    next: usize,
}

fn attr_i(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INT.into(),
        i,
        ..Default::default()
    }
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INTS.into(),
        ints: ints.to_vec(),
        ..Default::default()
    }
}

impl Graph {
    fn op_named(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>, out: &str) {
        self.next += 1;
        self.nodes.push(NodeProto {
            op_type: op.into(),
            name: format!("n{}", self.next),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            attribute: attrs,
            ..Default::default()
        });
    }

    fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> String {
        let out = format!("t{}", self.next + 1);
        self.op_named(op, inputs, attrs, &out);
        out
    }

    fn op_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        n: usize,
        attrs: Vec<AttributeProto>,
    ) -> Vec<String> {
        self.next += 1;
        let outs: Vec<String> = (0..n).map(|i| format!("t{}_{i}", self.next)).collect();
        self.nodes.push(NodeProto {
            op_type: op.into(),
            name: format!("n{}", self.next),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outs.clone(),
            attribute: attrs,
            ..Default::default()
        });
        outs
    }

    fn f32s(&mut self, name: &str, dims: &[usize], data: &[f32]) -> String {
        let mut raw = Vec::with_capacity(data.len() * 4);
        for x in data {
            raw.extend_from_slice(&x.to_le_bytes());
        }
        self.inits.push(TensorProto {
            name: name.into(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::FLOAT as i32,
            raw_data: raw,
            ..Default::default()
        });
        name.to_string()
    }

    fn i64s(&mut self, data: &[i64]) -> String {
        let name = format!("c{}", self.inits.len());
        self.inits.push(TensorProto {
            name: name.clone(),
            dims: vec![data.len() as i64],
            data_type: DataType::INT64 as i32,
            int64_data: data.to_vec(),
            ..Default::default()
        });
        name
    }

    fn scalar(&mut self, x: f32) -> String {
        let name = format!("c{}", self.inits.len());
        self.f32s(&name, &[], &[x])
    }

    fn gemm(&mut self, x: &str, w: &str) -> String {
        self.op("Gemm", &[x, w], vec![attr_i("transB", 1)])
    }

    fn rms_norm(&mut self, x: &str, w: &str, eps: &str) -> String {
        let sq = self.op("Mul", &[x, x], vec![]);
        let ms = self.op(
            "ReduceMean",
            &[&sq],
            vec![attr_ints("axes", &[-1]), attr_i("keepdims", 1)],
        );
        let ms = self.op("Add", &[&ms, eps], vec![]);
        let r = self.op("Sqrt", &[&ms], vec![]);
        let y = self.op("Div", &[x, &r], vec![]);
        self.op("Mul", &[&y, w], vec![])
    }
}

fn value_info(name: &str, elem: DataType, dims: &[&str]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d.parse::<i64>() {
                Ok(v) => dimension::Value::DimValue(v),
                Err(_) => dimension::Value::DimParam(d.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto {
            value: Some(TypeValue::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto {
                    dim,
                    ..Default::default()
                })
                .into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .into(),
        ..Default::default()
    }
}

fn weight(g: &mut GgufModel, gr: &mut Graph, name: &str) -> Result<String, OrtError> {
    let (shape, data) = g.f32_tensor(name)?;
    Ok(gr.f32s(name, &shape, &data))
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub bytes: u64,
    pub seconds: f64,
}

/// Export `gguf` (whose verified SHA-256 is `sha256`) to `out`, written to a temporary file
/// first and renamed, so an interrupted export never looks finished.
pub fn export(gguf: &Path, sha256: &str, out: &Path) -> Result<ExportSummary, OrtError> {
    let start = std::time::Instant::now();
    let mut g = GgufModel::open(gguf)?;
    let cfg = g.config.clone();
    let model = build(&mut g, &cfg, sha256)?;
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| OrtError::io(dir, e))?;
    let tmp = out.with_extension(format!("partial-{}", std::process::id()));
    {
        let f = std::fs::File::create(&tmp).map_err(|e| OrtError::io(&tmp, e))?;
        let mut w = std::io::BufWriter::new(f);
        model
            .write_to_writer(&mut w)
            .map_err(|e| OrtError::Export(format!("writing {}: {e}", tmp.display())))?;
        use std::io::Write;
        w.flush().map_err(|e| OrtError::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, out).map_err(|e| OrtError::io(out, e))?;
    let bytes = std::fs::metadata(out)
        .map_err(|e| OrtError::io(out, e))?
        .len();
    Ok(ExportSummary {
        bytes,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn build(g: &mut GgufModel, cfg: &ArchConfig, sha256: &str) -> Result<ModelProto, OrtError> {
    let kv = cfg.n_head_kv;
    let heads = cfg.n_head;
    let hd = cfg.head_dim;
    let grp = heads / kv;
    let kvi = kv as i64;
    let mut gr = Graph {
        nodes: Vec::new(),
        inits: Vec::new(),
        next: 0,
    };

    let embd = weight(g, &mut gr, "token_embd.weight")?;
    let eps = gr.scalar(cfg.rms_eps);
    let flat = gr.i64s(&[-1]);
    let ids = gr.op("Reshape", &["input_ids", &flat], vec![]);
    let mut x = gr.op("Gather", &[&embd, &ids], vec![attr_i("axis", 0)]);
    if cfg.embed_scale != 1.0 {
        let s = gr.scalar(cfg.embed_scale);
        x = gr.op("Mul", &[&x, &s], vec![]);
    }
    // Dynamic sizes: [B, S], [B], [P].
    let bs = gr.op("Shape", &["input_ids"], vec![]);
    let (z, one, two) = (gr.i64s(&[0]), gr.i64s(&[1]), gr.i64s(&[2]));
    let b1 = gr.op("Slice", &[&bs, &z, &one], vec![]);
    let pshape = gr.op("Shape", &["prefix_value.0"], vec![]);
    let p1 = gr.op("Slice", &[&pshape, &one, &two], vec![]);
    let c_kv_m1 = gr.i64s(&[kvi, -1]);
    let c_kv = gr.i64s(&[kvi]);
    let c_m1 = gr.i64s(&[-1]);
    let c_hd = gr.i64s(&[hd as i64]);
    let c_g_m1 = gr.i64s(&[grp as i64, -1]);
    let c_g_hd = gr.i64s(&[grp as i64, hd as i64]);
    let c_kvghd = gr.i64s(&[kvi, grp as i64, hd as i64]);
    let c_kvhd = gr.i64s(&[kvi, hd as i64]);
    // Rotary pairs: llama rotates adjacent elements (…, hd/2, 2), Gemma 3 (NeoX) the two
    // halves (…, 2, hd/2); the split axis follows.
    let neox = cfg.arch == Arch::Gemma3;
    let (pair_dims, pair_axis) = if neox {
        ([2, hd as i64 / 2], -2)
    } else {
        ([hd as i64 / 2, 2], -1)
    };
    let c_pairs_q = gr.i64s(&[heads as i64, pair_dims[0], pair_dims[1]]);
    let c_pairs_k = gr.i64s(&[kvi, pair_dims[0], pair_dims[1]]);
    let c_heads = gr.i64s(&[0, heads as i64, hd as i64]);
    let c_kvheads = gr.i64s(&[0, kvi, hd as i64]);
    let c_flat_q = gr.i64s(&[0, (heads * hd) as i64]);
    let c_flat_k = gr.i64s(&[0, (kv * hd) as i64]);
    let c_rows = gr.i64s(&[-1, (heads * hd) as i64]);
    let c_max = gr.i64s(&[i64::MAX]);
    let c_ax3 = gr.i64s(&[3]);
    let q5_shape = gr.op("Concat", &[&bs, &c_kvghd], vec![attr_i("axis", 0)]);
    let k4_shape = gr.op("Concat", &[&bs, &c_kvhd], vec![attr_i("axis", 0)]);
    let qp_shape = gr.op("Concat", &[&bs, &c_pairs_q], vec![attr_i("axis", 0)]);
    let kp_shape = gr.op("Concat", &[&bs, &c_pairs_k], vec![attr_i("axis", 0)]);
    let q4_shape = gr.op(
        "Concat",
        &[&c_kv, &b1, &c_m1, &c_hd],
        vec![attr_i("axis", 0)],
    );
    let sp_shape = gr.op("Concat", &[&c_kv, &b1, &c_m1, &p1], vec![attr_i("axis", 0)]);
    let pp_shape = gr.op("Concat", &[&c_kv_m1, &p1], vec![attr_i("axis", 0)]);
    let s5_shape = gr.op("Concat", &[&c_kv, &bs, &c_g_m1], vec![attr_i("axis", 0)]);
    let a5_shape = gr.op("Concat", &[&c_kv, &bs, &c_g_hd], vec![attr_i("axis", 0)]);
    let qf_shape = gr.i64s(&[kvi, -1, hd as i64]);

    // Rotary tables from the positions: llama.cpp's "normal" rope rotates adjacent pairs
    // (the GGUF Q/K rows are permuted for it), theta_i = pos · scale · base^(-2i/d).
    let pos = gr.op(
        "Cast",
        &["position_ids"],
        vec![attr_i("to", DataType::FLOAT as i64)],
    );
    let axes = gr.i64s(&[2, 3, 4]);
    let pos5 = gr.op("Unsqueeze", &[&pos, &axes], vec![]);
    let mut tables: Vec<(f32, f32, String, String)> = Vec::new();
    let mut rope_of = |gr: &mut Graph, theta: f32, scale: f32| -> (String, String) {
        if let Some(t) = tables.iter().find(|t| t.0 == theta && t.1 == scale) {
            return (t.2.clone(), t.3.clone());
        }
        let inv: Vec<f32> = (0..hd / 2)
            .map(|i| (scale as f64 * (theta as f64).powf(-2.0 * i as f64 / hd as f64)) as f32)
            .collect();
        let name = format!("rope_inv_freq.{}", tables.len());
        let dims = if neox { [1, hd / 2] } else { [hd / 2, 1] };
        let invn = gr.f32s(&name, &dims, &inv);
        let f = gr.op("Mul", &[&pos5, &invn], vec![]);
        let c = gr.op("Cos", &[&f], vec![]);
        let s = gr.op("Sin", &[&f], vec![]);
        tables.push((theta, scale, c.clone(), s.clone()));
        (c, s)
    };
    let rope = |gr: &mut Graph, t: &str, pairs: &str, cos: &str, sin: &str| -> String {
        let r = gr.op("Reshape", &[t, pairs], vec![]);
        let xs = gr.op_n("Split", &[&r], 2, vec![attr_i("axis", pair_axis)]);
        let a = gr.op("Mul", &[&xs[0], cos], vec![]);
        let b = gr.op("Mul", &[&xs[1], sin], vec![]);
        let o0 = gr.op("Sub", &[&a, &b], vec![]);
        let c = gr.op("Mul", &[&xs[0], sin], vec![]);
        let d = gr.op("Mul", &[&xs[1], cos], vec![]);
        let o1 = gr.op("Add", &[&c, &d], vec![]);
        gr.op("Concat", &[&o0, &o1], vec![attr_i("axis", pair_axis)])
    };
    let has_local = (0..cfg.n_layer).any(|l| cfg.is_local(l));
    // GELU, tanh approximation (as llama.cpp runs Gemma): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    let (half, one_f, c_gelu, k_gelu) = if neox {
        (
            gr.scalar(0.5),
            gr.scalar(1.0),
            gr.scalar(0.044715),
            gr.scalar((2.0f64 / std::f64::consts::PI).sqrt() as f32),
        )
    } else {
        Default::default()
    };
    let qscale = gr.scalar(cfg.attn_scale);

    for l in 0..cfg.n_layer {
        let p = |n: &str| format!("blk.{l}.{n}.weight");
        let an = weight(g, &mut gr, &p("attn_norm"))?;
        let wq = weight(g, &mut gr, &p("attn_q"))?;
        let wk = weight(g, &mut gr, &p("attn_k"))?;
        let wv = weight(g, &mut gr, &p("attn_v"))?;
        let wo = weight(g, &mut gr, &p("attn_output"))?;
        let fnw = weight(g, &mut gr, &p("ffn_norm"))?;
        let wg = weight(g, &mut gr, &p("ffn_gate"))?;
        let wu = weight(g, &mut gr, &p("ffn_up"))?;
        let wd = weight(g, &mut gr, &p("ffn_down"))?;
        let (cos, sin) = rope_of(&mut gr, cfg.rope_theta_of(l), cfg.rope_scale_of(l));
        let opt =
            |g: &mut GgufModel, gr: &mut Graph, n: &str| -> Result<Option<String>, OrtError> {
                let name = p(n);
                if g.has_tensor(&name) {
                    weight(g, gr, &name).map(Some)
                } else {
                    Ok(None)
                }
            };
        let qn = opt(g, &mut gr, "attn_q_norm")?;
        let kn = opt(g, &mut gr, "attn_k_norm")?;
        let pan = opt(g, &mut gr, "post_attention_norm")?;
        let pfn = opt(g, &mut gr, "post_ffw_norm")?;
        let mask = if cfg.is_local(l) {
            "attn_mask_local"
        } else {
            "attn_mask"
        };

        let h = gr.rms_norm(&x, &an, &eps);
        let mut q = gr.gemm(&h, &wq);
        let mut k = gr.gemm(&h, &wk);
        let v = gr.gemm(&h, &wv);
        // Gemma 3's QK-norm: RMS norm over each head's vector.
        if let Some(w) = &qn {
            let t = gr.op("Reshape", &[&q, &c_heads], vec![]);
            let t = gr.rms_norm(&t, w, &eps);
            q = gr.op("Reshape", &[&t, &c_flat_q], vec![]);
        }
        if let Some(w) = &kn {
            let t = gr.op("Reshape", &[&k, &c_kvheads], vec![]);
            let t = gr.rms_norm(&t, w, &eps);
            k = gr.op("Reshape", &[&t, &c_flat_k], vec![]);
        }
        // q → [KV, B, S·G, hd] (scaled), and folded to [KV, B·S·G, hd] for the prefix GEMM.
        let q = rope(&mut gr, &q, &qp_shape, &cos, &sin);
        let q = gr.op("Reshape", &[&q, &q5_shape], vec![]);
        let q = gr.op(
            "Transpose",
            &[&q],
            vec![attr_ints("perm", &[2, 0, 1, 3, 4])],
        );
        let q = gr.op("Mul", &[&q, &qscale], vec![]);
        let qf = gr.op("Reshape", &[&q, &qf_shape], vec![]);
        let q4 = gr.op("Reshape", &[&qf, &q4_shape], vec![]);
        // New K/V → [KV, B, S, hd], returned to the host as the rows' new state.
        let k = rope(&mut gr, &k, &kp_shape, &cos, &sin);
        let k = gr.op("Reshape", &[&k, &k4_shape], vec![]);
        let nk = format!("new_key.{l}");
        gr.op_named(
            "Transpose",
            &[&k],
            vec![attr_ints("perm", &[2, 0, 1, 3])],
            &nk,
        );
        let v = gr.op("Reshape", &[&v, &k4_shape], vec![]);
        let nv = format!("new_value.{l}");
        gr.op_named(
            "Transpose",
            &[&v],
            vec![attr_ints("perm", &[2, 0, 1, 3])],
            &nv,
        );
        let kown = gr.op(
            "Concat",
            &[&format!("past_key.{l}"), &nk],
            vec![attr_i("axis", 2)],
        );
        let vown = gr.op(
            "Concat",
            &[&format!("past_value.{l}"), &nv],
            vec![attr_i("axis", 2)],
        );
        // Scores against the shared prefix (one GEMM per KV head for all rows) and own KV.
        let sp = gr.op("MatMul", &[&qf, &format!("prefix_key.{l}")], vec![]);
        let sp = gr.op("Reshape", &[&sp, &sp_shape], vec![]);
        let kt = gr.op(
            "Transpose",
            &[&kown],
            vec![attr_ints("perm", &[0, 1, 3, 2])],
        );
        let so = gr.op("MatMul", &[&q4, &kt], vec![]);
        let sc = gr.op("Concat", &[&sp, &so], vec![attr_i("axis", 3)]);
        let sc_shape = gr.op("Shape", &[&sc], vec![]);
        let s5 = gr.op("Reshape", &[&sc, &s5_shape], vec![]);
        let s5 = gr.op("Add", &[&s5, mask], vec![]);
        let pr = gr.op("Softmax", &[&s5], vec![attr_i("axis", -1)]);
        let pr = gr.op("Reshape", &[&pr, &sc_shape], vec![]);
        let pp = gr.op("Slice", &[&pr, &z, &p1, &c_ax3], vec![]);
        let po = gr.op("Slice", &[&pr, &p1, &c_max, &c_ax3], vec![]);
        let pp = gr.op("Reshape", &[&pp, &pp_shape], vec![]);
        let ap = gr.op("MatMul", &[&pp, &format!("prefix_value.{l}")], vec![]);
        let ap = gr.op("Reshape", &[&ap, &q4_shape], vec![]);
        let ao = gr.op("MatMul", &[&po, &vown], vec![]);
        let a = gr.op("Add", &[&ap, &ao], vec![]);
        let a = gr.op("Reshape", &[&a, &a5_shape], vec![]);
        let a = gr.op(
            "Transpose",
            &[&a],
            vec![attr_ints("perm", &[1, 2, 0, 3, 4])],
        );
        let a = gr.op("Reshape", &[&a, &c_rows], vec![]);
        let mut o = gr.gemm(&a, &wo);
        if let Some(w) = &pan {
            o = gr.rms_norm(&o, w, &eps);
        }
        x = gr.op("Add", &[&x, &o], vec![]);

        let h = gr.rms_norm(&x, &fnw, &eps);
        let gt = gr.gemm(&h, &wg);
        let up = gr.gemm(&h, &wu);
        let act = if neox {
            let x2 = gr.op("Mul", &[&gt, &gt], vec![]);
            let x3 = gr.op("Mul", &[&x2, &gt], vec![]);
            let t = gr.op("Mul", &[&x3, &c_gelu], vec![]);
            let t = gr.op("Add", &[&gt, &t], vec![]);
            let t = gr.op("Mul", &[&t, &k_gelu], vec![]);
            let t = gr.op("Tanh", &[&t], vec![]);
            let t = gr.op("Add", &[&t, &one_f], vec![]);
            let t = gr.op("Mul", &[&t, &gt], vec![]);
            gr.op("Mul", &[&t, &half], vec![])
        } else {
            let sg = gr.op("Sigmoid", &[&gt], vec![]);
            gr.op("Mul", &[&gt, &sg], vec![])
        };
        let act = gr.op("Mul", &[&act, &up], vec![]);
        let mut d = gr.gemm(&act, &wd);
        if let Some(w) = &pfn {
            d = gr.rms_norm(&d, w, &eps);
        }
        x = gr.op("Add", &[&x, &d], vec![]);
    }
    // Only the rows that need a distribution go through the output projection.
    let xs = gr.op("Gather", &[&x, "logit_rows"], vec![attr_i("axis", 0)]);
    let on = weight(g, &mut gr, "output_norm.weight")?;
    let xs = gr.rms_norm(&xs, &on, &eps);
    // Tied embeddings (SmolLM2) reuse token_embd; Gemm's transB reads it in place.
    let out_w = if g.has_tensor("output.weight") {
        weight(g, &mut gr, "output.weight")?
    } else {
        embd.clone()
    };
    gr.op_named("Gemm", &[&xs, &out_w], vec![attr_i("transB", 1)], "logits");

    let mut inputs = vec![
        value_info("input_ids", DataType::INT64, &["B", "S"]),
        value_info("position_ids", DataType::INT64, &["B", "S"]),
        value_info("attn_mask", DataType::FLOAT, &["B", "S", "1", "N"]),
        value_info("logit_rows", DataType::INT64, &["R"]),
    ];
    if has_local {
        // The same columns, additionally hiding keys outside the sliding window.
        inputs.push(value_info(
            "attn_mask_local",
            DataType::FLOAT,
            &["B", "S", "1", "N"],
        ));
    }
    let (kvs, hds) = (kv.to_string(), hd.to_string());
    let mut outputs = vec![value_info(
        "logits",
        DataType::FLOAT,
        &["R", &cfg.vocab_size.to_string()],
    )];
    for l in 0..cfg.n_layer {
        inputs.push(value_info(
            &format!("prefix_key.{l}"),
            DataType::FLOAT,
            &[&kvs, &hds, "P"],
        ));
        inputs.push(value_info(
            &format!("prefix_value.{l}"),
            DataType::FLOAT,
            &[&kvs, "P", &hds],
        ));
        inputs.push(value_info(
            &format!("past_key.{l}"),
            DataType::FLOAT,
            &[&kvs, "B", "T", &hds],
        ));
        inputs.push(value_info(
            &format!("past_value.{l}"),
            DataType::FLOAT,
            &[&kvs, "B", "T", &hds],
        ));
        outputs.push(value_info(
            &format!("new_key.{l}"),
            DataType::FLOAT,
            &[&kvs, "B", "S", &hds],
        ));
        outputs.push(value_info(
            &format!("new_value.{l}"),
            DataType::FLOAT,
            &[&kvs, "B", "S", &hds],
        ));
    }
    let meta = |k: &str, v: String| StringStringEntryProto {
        key: k.into(),
        value: v,
        ..Default::default()
    };
    Ok(ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
            ..Default::default()
        }],
        producer_name: "fcbench".into(),
        producer_version: format!("fcbench-ort export v{EXPORT_VERSION}"),
        metadata_props: vec![
            meta("fcbench.gguf_sha256", sha256.to_string()),
            meta("fcbench.export_version", EXPORT_VERSION.to_string()),
            meta("fcbench.architecture", cfg.arch_name.clone()),
        ],
        graph: Some(GraphProto {
            name: "fcbench_decoder".into(),
            node: gr.nodes,
            initializer: gr.inits,
            input: inputs,
            output: outputs,
            ..Default::default()
        })
        .into(),
        ..Default::default()
    })
}
