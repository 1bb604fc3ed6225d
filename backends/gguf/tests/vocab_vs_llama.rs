//! The pure-Rust vocab against llama.cpp's on the cached real models: the same ids for every
//! prompt fcbench sends, the same bytes for every token, the same end-of-generation set and the
//! same spare tokens, so that all backends run identical token sequences.

use fcbench_core::backend::Vocabulary;
use fcbench_core::markers::spare_tokens;
use fcbench_core::protocol::{PlanOptions, Protocol};
use fcbench_gguf::GgufModel;
use fcbench_llama::LlamaModel;
use std::path::PathBuf;
use std::time::Instant;

fn cached(name: &str) -> Option<PathBuf> {
    let known = fcbench_core::models::known(name).expect("a known model");
    let path = fcbench_core::models::model_path(known);
    if path.exists() {
        Some(path)
    } else {
        fcbench_core::agreement::skip_or_fail(&format!(
            "{} is not cached (`fcbench models fetch {name}` fetches it)",
            path.display()
        ));
        None
    }
}

/// Every text fcbench tokenizes for a run: prefixes, head prompts, stops and reference outputs
/// of every case of every builtin scenario under every protocol, and the protocol markers.
fn scenario_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for name in fcbench_scenarios::builtin_names() {
        let scenario = fcbench_scenarios::load(name).unwrap();
        for p in Protocol::ALL {
            texts.extend(p.markers());
            for case in &scenario.cases {
                for opts in [
                    PlanOptions::default(),
                    PlanOptions {
                        content_head: true,
                        ..Default::default()
                    },
                ] {
                    let Ok(plan) = p.plan(case, &opts) else {
                        continue;
                    };
                    texts.push(plan.prefix.clone());
                    for h in plan.heads {
                        texts.push(h.prompt);
                        texts.extend(h.stops);
                        texts.extend(h.reference);
                    }
                }
            }
        }
    }
    texts.sort();
    texts.dedup();
    texts
}

fn tricky_texts() -> Vec<String> {
    [
        "",
        " ",
        "  ",
        "\n",
        "\n\n\n",
        "\t",
        "a\tb\t\tc",
        "hello world",
        "  leading and trailing  ",
        "multiple     spaces   here",
        "line one\nline two\r\nline three\n\n  indented",
        "1234567890 12 3.14159 -42 1e10 0x1F",
        "٣٤٥ ①②③ ⅣⅤ",
        "naïve café résumé Ünïcödé",
        "日本語のテキストと中文字符",
        "emoji 😀🎉👩‍👩‍👧‍👦 and 🇫🇷 flags",
        "Ελληνικά кириллица עברית العربية",
        "it's they're we've I'm you'll he'd IT'S",
        "don't 's 't ' '",
        "symbols !@#$%^&*()_+-=[]{}|;:'\",.<>/?`~",
        "<function>get_weather</function><arg1>\"Paris\"</arg1>",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
        "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
        "text<|im_end|>more<|endoftext|>end",
        "<bos><eos><pad>",
        "<|im_start|><|im_start|>",
        "<unused0><unused99>",
        "<start_function_call>call:f{a:<escape>x<escape>}<end_function_call>",
        "a\u{2581}b \u{2581} ▁▁",
        "\u{00a0}nbsp\u{3000}ideographic\u{2003}em",
        "trailing newline\n",
        "{\"name\": \"move\", \"arguments\": {\"x\": 3, \"y\": -4}}",
        "\u{0301}combining e\u{0301} and zero\u{200b}width",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn compare(name: &str) {
    let Some(path) = cached(name) else {
        return;
    };
    let gguf = GgufModel::open(&path).unwrap();
    let t0 = Instant::now();
    let vocab = gguf.vocab().unwrap();
    eprintln!(
        "{name}: vocab built from GGUF metadata in {:.0} ms ({} tokens)",
        t0.elapsed().as_secs_f64() * 1e3,
        vocab.len()
    );
    let v = &vocab;
    let llama = LlamaModel::load(&path, "", &Default::default()).unwrap();

    assert_eq!(v.len(), llama.vocab_size(), "{name}: vocabulary size");

    // Scenario texts with BOS as runs send them; the tricky ones both ways.
    let scenario = scenario_texts();
    let tricky = tricky_texts();
    let cases = scenario
        .iter()
        .map(|t| (t, true))
        .chain(tricky.iter().flat_map(|t| [(t, false), (t, true)]));
    let (mut ours_s, mut llama_s, mut tokens, mut bytes) = (0.0, 0.0, 0, 0);
    for (text, add_bos) in cases {
        let t = Instant::now();
        let ours = v.tokenize(text, add_bos);
        ours_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let want = llama.tokenize(text, add_bos).unwrap();
        llama_s += t.elapsed().as_secs_f64();
        tokens += ours.len();
        bytes += text.len();
        assert_eq!(
            ours, want,
            "{name}: tokenize({text:?}, add_bos = {add_bos})"
        );
    }
    eprintln!(
        "{name}: {} scenario texts and {} tricky ones tokenize identically ({:.1} MB, {tokens} tokens): {:.0} ms here, {:.0} ms in llama.cpp",
        scenario.len(),
        tricky.len(),
        bytes as f64 / 1e6,
        ours_s * 1e3,
        llama_s * 1e3
    );

    for id in 0..v.len() as i32 {
        assert_eq!(
            v.token_bytes(id),
            llama.token_bytes(id),
            "{name}: token_bytes({id})"
        );
        assert_eq!(
            v.is_end_of_generation(id),
            llama.is_end_of_generation(id),
            "{name}: is_end_of_generation({id}) ({:?})",
            v.text(id)
        );
    }
    let spare = spare_tokens(v);
    assert_eq!(spare, spare_tokens(&llama), "{name}: spare tokens");

    let mut markers: Vec<String> = Protocol::ALL.iter().flat_map(|p| p.markers()).collect();
    markers.extend(
        [
            "<|im_start|>",
            "<|im_end|>",
            "<start_of_turn>",
            "<end_of_turn>",
            "<bos>",
            "<eos>",
            "<|endoftext|>",
            "\n",
            " ",
            "a",
            "hello",
        ]
        .map(String::from),
    );
    for m in &markers {
        assert_eq!(
            v.single_token(m),
            llama.single_token(m),
            "{name}: single_token({m:?})"
        );
    }
    let eog: Vec<i32> = (0..v.len() as i32)
        .filter(|&t| v.is_end_of_generation(t))
        .collect();
    eprintln!(
        "{name}: token_bytes and end-of-generation agree on all {} ids (EOG {eog:?}); {} spare tokens agree in order; {} markers agree",
        v.len(),
        spare.len(),
        markers.len()
    );
}

#[test]
fn smollm2_vocab_matches_llama_cpp() {
    compare("smollm2");
}

#[test]
fn gemma3_vocab_matches_llama_cpp() {
    compare("gemma3-270m");
}
