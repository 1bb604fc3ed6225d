//! llama.cpp-compatible tokenizer built from GGUF metadata.
//!
//! A port of the parts of llama.cpp's `llama-vocab.cpp` (as vendored in llama-cpp-sys-2
//! 0.1.160) that fcbench's models use: the SPM tokenizer (`tokenizer.ggml.model = llama`,
//! Gemma 3) and byte-level BPE with the GPT-2 pre-tokenizer, digits split first
//! (`tokenizer.ggml.model = gpt2`, `pre = smollm` and its siblings). Token attributes, the
//! name-based end-of-generation heuristics, special-token partitioning and `token_to_piece`
//! follow llama.cpp rule for rule, so that every backend feeds the model the same ids; the
//! integration test `tests/vocab_vs_llama.rs` checks that against llama.cpp itself.

use crate::config::Meta;
use crate::GgufError;
use aho_corasick::AhoCorasick;
use candle_core::quantized::gguf_file::{Content, Value};
use fcbench_core::backend::{BackendError, TokenId, TokenKind};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

// llama.h's `llama_token_attr` bits.
const ATTR_UNKNOWN: u32 = 1 << 0;
const ATTR_UNUSED: u32 = 1 << 1;
const ATTR_NORMAL: u32 = 1 << 2;
const ATTR_CONTROL: u32 = 1 << 3;
const ATTR_USER_DEFINED: u32 = 1 << 4;
const ATTR_BYTE: u32 = 1 << 5;
const ATTR_LSTRIP: u32 = 1 << 7;
const ATTR_RSTRIP: u32 = 1 << 8;

/// llama.h's `llama_token_type` (the values stored in `tokenizer.ggml.token_type`) as attributes.
fn attr_of_type(t: i32) -> u32 {
    match t {
        1 => ATTR_NORMAL,
        2 => ATTR_UNKNOWN,
        3 => ATTR_CONTROL,
        4 => ATTR_USER_DEFINED,
        5 => ATTR_UNUSED,
        6 => ATTR_BYTE,
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    /// SentencePiece-style: score-ordered bigram merges, byte fallback, `▁` for spaces.
    Spm,
    /// Byte-level BPE with merges, GPT-2 pre-tokenizer after splitting off every digit.
    Bpe,
}

/// Pre-tokenizer names (`tokenizer.ggml.pre`) that llama.cpp maps to "each digit alone, then
/// the GPT-2 regex" (its STARCODER, REFACT, COMMAND_R, SMOLLM, CODESHELL, EXAONE, MINERVA).
const DIGITS_THEN_GPT2: &[&str] = &[
    "starcoder",
    "refact",
    "command-r",
    "smollm",
    "codeshell",
    "exaone",
    "minerva-7b",
];

/// Special-token ids, `None` where the model has none (llama.cpp's `LLAMA_TOKEN_NULL`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Specials {
    bos: Option<TokenId>,
    eos: Option<TokenId>,
    eot: Option<TokenId>,
    eom: Option<TokenId>,
    unk: Option<TokenId>,
    sep: Option<TokenId>,
    pad: Option<TokenId>,
    mask: Option<TokenId>,
    fim_pre: Option<TokenId>,
    fim_suf: Option<TokenId>,
    fim_mid: Option<TokenId>,
    fim_pad: Option<TokenId>,
    fim_rep: Option<TokenId>,
    fim_sep: Option<TokenId>,
}

/// The tokenizer metadata of a GGUF file, separate from the file so that tests can build one.
#[derive(Debug, Clone, Default)]
struct Raw {
    model: String,
    pre: String,
    tokens: Vec<String>,
    scores: Option<Vec<f32>>,
    types: Option<Vec<i32>>,
    merges: Vec<String>,
    /// `(key suffix after "tokenizer.ggml.", id)` in the order llama.cpp applies them.
    ids: Vec<(&'static str, usize)>,
    add_bos: Option<bool>,
    add_space_prefix: Option<bool>,
    general_name: String,
    arch: String,
}

/// The metadata keys of special-token ids, in llama.cpp's order (the deprecated FIM names last,
/// so they override).
const ID_KEYS: &[&str] = &[
    "bos_token_id",
    "eos_token_id",
    "eot_token_id",
    "eom_token_id",
    "unknown_token_id",
    "seperator_token_id",
    "padding_token_id",
    "mask_token_id",
    "fim_pre_token_id",
    "fim_suf_token_id",
    "fim_mid_token_id",
    "fim_pad_token_id",
    "fim_rep_token_id",
    "fim_sep_token_id",
    "prefix_token_id",
    "suffix_token_id",
    "middle_token_id",
];

/// The vocabulary and tokenizer of a GGUF model, with the same token ids, special-token
/// handling and end-of-generation set as the llama backend.
pub struct Vocab {
    model: Model,
    texts: Vec<String>,
    scores: Vec<f32>,
    attrs: Vec<u32>,
    to_id: HashMap<String, TokenId>,
    /// BPE merge ranks: `ranks[left][right]`, so lookups borrow.
    ranks: HashMap<String, HashMap<String, u32>>,
    specials: Specials,
    linefeed: Option<TokenId>,
    add_bos: bool,
    add_space_prefix: bool,
    eog: HashSet<TokenId>,
    /// Tokens matched in raw text before tokenizing, longest text first (llama.cpp's
    /// `cache_special_tokens`), and a matcher that finds which of them a text contains.
    partition: Vec<TokenId>,
    partition_finder: Option<AhoCorasick>,
    /// `token_to_piece(id, special = true)` for every id.
    pieces: Vec<Vec<u8>>,
    /// SPM byte-fallback token of each byte value.
    byte_tokens: Vec<Option<TokenId>>,
    letters: Letters,
}

impl Vocab {
    pub fn from_gguf(path: &str, c: &Content) -> Result<Vocab, GgufError> {
        let md = Meta { path, c };
        let raw = read_raw(&md)?;
        Vocab::build(raw).map_err(|(key, reason)| md.err(&key, reason))
    }

    /// As `TokenBackend::tokenize`: special tokens parsed; BOS only if `add_bos` and the model adds one.
    pub fn tokenize(&self, text: &str, add_bos: bool) -> Vec<TokenId> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_bos && self.add_bos {
            if let Some(bos) = self.specials.bos {
                out.push(bos);
            }
        }
        self.tokenize_into(text, true, &mut out);
        out
    }

    /// The bytes the token stands for, special tokens as their text (llama.cpp's
    /// `token_to_piece` with `special = true`); empty for an id outside the vocabulary.
    pub fn token_bytes(&self, token: TokenId) -> Vec<u8> {
        usize::try_from(token)
            .ok()
            .and_then(|i| self.pieces.get(i))
            .cloned()
            .unwrap_or_default()
    }

    pub fn bos(&self) -> Option<TokenId> {
        self.specials.bos
    }

    pub fn eos(&self) -> Option<TokenId> {
        self.specials.eos
    }

    /// Whether the model wants BOS in front of a prompt (`tokenizer.ggml.add_bos_token`).
    pub fn adds_bos(&self) -> bool {
        self.add_bos
    }

    /// The token's text as stored in the GGUF file.
    pub fn text(&self, token: TokenId) -> Option<&str> {
        usize::try_from(token)
            .ok()
            .and_then(|i| self.texts.get(i))
            .map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    fn id(&self, text: &str) -> Option<TokenId> {
        self.to_id.get(text).copied()
    }

    /// llama.cpp's `llama_vocab::impl::tokenize` with `add_special = false`.
    fn tokenize_into(&self, text: &str, parse_special: bool, out: &mut Vec<TokenId>) {
        if text.is_empty() {
            return;
        }
        let fragments = self.partition(text, parse_special);
        let mut prev_special = true;
        for f in fragments {
            match f {
                Fragment::Token(t) => {
                    out.push(t);
                    prev_special = true;
                }
                Fragment::Raw(a, b) => {
                    let raw = &text[a..b];
                    match self.model {
                        Model::Spm => {
                            let mut s = String::with_capacity(raw.len() + 4);
                            if self.add_space_prefix && prev_special {
                                s.push(' ');
                            }
                            s.push_str(raw);
                            self.spm(&s.replace(' ', "\u{2581}"), out);
                        }
                        Model::Bpe => self.bpe(raw, out),
                    }
                    prev_special = false;
                }
            }
        }
    }

    /// llama.cpp's `tokenizer_st_partition`: for each special token, longest first, split every
    /// raw fragment at each of its occurrences.
    fn partition(&self, text: &str, parse_special: bool) -> Vec<Fragment> {
        let mut frags = vec![Fragment::Raw(0, text.len())];
        let Some(finder) = &self.partition_finder else {
            return frags;
        };
        // Only tokens present somewhere in the text can split it; finding those first keeps
        // Gemma's thousands of special tokens from each scanning the text.
        let mut present = vec![false; self.partition.len()];
        for m in finder.find_overlapping_iter(text) {
            present[m.pattern().as_usize()] = true;
        }
        for (k, &id) in self.partition.iter().enumerate() {
            if !present[k] {
                continue;
            }
            let attr = self.attrs[id as usize];
            if !parse_special && attr & (ATTR_CONTROL | ATTR_UNKNOWN) != 0 {
                continue;
            }
            let needle = self.texts[id as usize].as_str();
            let mut next = Vec::with_capacity(frags.len() + 2);
            for f in frags {
                let Fragment::Raw(start, end) = f else {
                    next.push(f);
                    continue;
                };
                let mut from = start;
                while let Some(at) = text[from..end].find(needle).map(|i| i + from) {
                    let mut left_end = at;
                    if attr & ATTR_LSTRIP != 0 {
                        while left_end > from && is_c_space(text.as_bytes()[left_end - 1]) {
                            left_end -= 1;
                        }
                    }
                    if left_end > from {
                        next.push(Fragment::Raw(from, left_end));
                    }
                    next.push(Fragment::Token(id));
                    from = at + needle.len();
                    if attr & ATTR_RSTRIP != 0 {
                        while from < end && is_c_space(text.as_bytes()[from]) {
                            from += 1;
                        }
                    }
                }
                if from < end {
                    next.push(Fragment::Raw(from, end));
                }
            }
            frags = next;
        }
        frags
    }

    /// llama.cpp's `llm_tokenizer_spm_session::tokenize` on whitespace-escaped text.
    fn spm(&self, text: &str, out: &mut Vec<TokenId>) {
        let bytes = text.as_bytes();
        let mut syms: Vec<Sym> = Vec::with_capacity(text.len());
        let mut offs = 0;
        while offs < bytes.len() {
            let n = utf8_len(bytes[offs]).min(bytes.len() - offs);
            let i = syms.len() as i32;
            offs += n;
            syms.push(Sym {
                prev: i - 1,
                next: if offs == bytes.len() { -1 } else { i + 1 },
                start: offs - n,
                n,
            });
        }
        let mut queue = BinaryHeap::new();
        let try_add = |syms: &[Sym], queue: &mut BinaryHeap<SpmBigram>, l: i32, r: i32| {
            if l < 0 || r < 0 {
                return;
            }
            let (ls, rs) = (&syms[l as usize], &syms[r as usize]);
            let size = ls.n + rs.n;
            if let Some(tok) = self.id(&text[ls.start..ls.start + size]) {
                queue.push(SpmBigram {
                    left: l,
                    right: r,
                    score: self.scores[tok as usize],
                    size,
                });
            }
        };
        for i in 1..syms.len() as i32 {
            try_add(&syms, &mut queue, i - 1, i);
        }
        while let Some(b) = queue.pop() {
            let (l, r) = (b.left as usize, b.right as usize);
            if syms[l].n == 0 || syms[r].n == 0 || syms[l].n + syms[r].n != b.size {
                continue;
            }
            merge_right_into(&mut syms, l, r);
            let (prev, next) = (syms[l].prev, syms[l].next);
            try_add(&syms, &mut queue, prev, b.left);
            try_add(&syms, &mut queue, b.left, next);
        }
        let mut i = 0i32;
        while i != -1 && !syms.is_empty() {
            let s = &syms[i as usize];
            let piece = &text[s.start..s.start + s.n];
            // A merged symbol is always a token (only token bigrams merge), so llama.cpp's
            // `rev_merge` re-segmentation never applies: a miss is a single character.
            match self.id(piece) {
                Some(t) => out.push(t),
                None => out.extend(piece.bytes().filter_map(|b| self.byte_tokens[b as usize])),
            }
            i = s.next;
        }
    }

    /// llama.cpp's `llm_tokenizer_bpe_session::tokenize` on one raw fragment.
    fn bpe(&self, text: &str, out: &mut Vec<TokenId>) {
        for word in pre_tokenize(text, &self.letters) {
            self.bpe_word(&byte_encode(word), out);
        }
    }

    fn bpe_word(&self, word: &str, out: &mut Vec<TokenId>) {
        let mut syms: Vec<Sym> = Vec::with_capacity(word.len());
        for (i, (start, c)) in word.char_indices().enumerate() {
            let i = i as i32;
            let n = c.len_utf8();
            syms.push(Sym {
                prev: i - 1,
                next: if start + n == word.len() { -1 } else { i + 1 },
                start,
                n,
            });
        }
        let mut queue = BinaryHeap::new();
        let try_add = |syms: &[Sym], queue: &mut BinaryHeap<BpeBigram>, l: i32, r: i32| {
            if l < 0 || r < 0 {
                return;
            }
            let (ls, rs) = (&syms[l as usize], &syms[r as usize]);
            let left = &word[ls.start..ls.start + ls.n];
            let right = &word[rs.start..rs.start + rs.n];
            if let Some(&rank) = self.ranks.get(left).and_then(|m| m.get(right)) {
                queue.push(BpeBigram {
                    left: l,
                    right: r,
                    rank,
                    left_n: ls.n,
                    right_n: rs.n,
                });
            }
        };
        for i in 1..syms.len() as i32 {
            try_add(&syms, &mut queue, i - 1, i);
        }
        while let Some(b) = queue.pop() {
            let (l, r) = (b.left as usize, b.right as usize);
            // llama.cpp skips a bigram whose symbols' text changed since it was queued;
            // symbols only grow to the right, so comparing lengths is the same test.
            if syms[l].n == 0 || syms[r].n == 0 || syms[l].n != b.left_n || syms[r].n != b.right_n {
                continue;
            }
            merge_right_into(&mut syms, l, r);
            let (prev, next) = (syms[l].prev, syms[l].next);
            try_add(&syms, &mut queue, prev, b.left);
            try_add(&syms, &mut queue, b.left, next);
        }
        for s in syms.iter().filter(|s| s.n > 0) {
            let piece = &word[s.start..s.start + s.n];
            match self.id(piece) {
                Some(t) => out.push(t),
                None => {
                    // llama.cpp looks each byte up as a one-byte token text.
                    for b in piece.bytes() {
                        if let Some(t) = std::str::from_utf8(&[b]).ok().and_then(|s| self.id(s)) {
                            out.push(t);
                        }
                    }
                }
            }
        }
    }

    /// llama.cpp's `llama_vocab::impl::load`, from the metadata on.
    fn build(raw: Raw) -> Result<Vocab, (String, String)> {
        let key = |k: &str| format!("tokenizer.ggml.{k}");
        let model = match raw.model.as_str() {
            "llama" => Model::Spm,
            "gpt2" => Model::Bpe,
            other => {
                return Err((
                    key("model"),
                    format!("tokenizer `{other}` is not implemented outside llama.cpp (supported: llama, gpt2)"),
                ))
            }
        };
        if model == Model::Bpe && !DIGITS_THEN_GPT2.contains(&raw.pre.as_str()) {
            return Err((
                key("pre"),
                format!(
                    "pre-tokenizer `{}` is not implemented outside llama.cpp (supported: {})",
                    raw.pre,
                    DIGITS_THEN_GPT2.join(", ")
                ),
            ));
        }
        let n = raw.tokens.len();
        if let Some(s) = &raw.scores {
            if s.len() < n {
                return Err((key("scores"), format!("{} scores for {n} tokens", s.len())));
            }
        }
        if let Some(t) = &raw.types {
            if t.len() < n {
                return Err((
                    key("token_type"),
                    format!("{} types for {n} tokens", t.len()),
                ));
            }
        }
        let mut texts = raw.tokens;
        let mut to_id = HashMap::with_capacity(n);
        for (i, t) in texts.iter_mut().enumerate() {
            if t.is_empty() {
                *t = format!("[EMPTY_{i}]");
            }
            if to_id.insert(t.clone(), i as TokenId).is_some() {
                return Err((key("tokens"), format!("token text `{t}` appears twice")));
            }
        }
        let scores = raw.scores.unwrap_or_else(|| vec![0.0; n]);
        let mut attrs: Vec<u32> = match &raw.types {
            Some(t) => t[..n].iter().map(|&t| attr_of_type(t)).collect(),
            None => vec![ATTR_NORMAL; n],
        };
        let mut ranks: HashMap<String, HashMap<String, u32>> = HashMap::new();
        if model == Model::Bpe {
            if raw.merges.is_empty() {
                return Err((key("merges"), "missing".into()));
            }
            for (i, m) in raw.merges.iter().enumerate() {
                // As llama.cpp: split at the first space after the first byte.
                let (first, second) = match m.as_bytes().iter().skip(1).position(|&b| b == b' ') {
                    Some(p) => (&m[..p + 1], &m[p + 2..]),
                    None => ("", ""),
                };
                ranks
                    .entry(first.to_string())
                    .or_default()
                    .entry(second.to_string())
                    .or_insert(i as u32);
            }
        }
        let (mut add_bos, mut add_space_prefix) = match model {
            Model::Spm => (true, true),
            Model::Bpe => (false, false),
        };
        if let Some(b) = raw.add_space_prefix {
            add_space_prefix = b;
        }

        let mut v = Vocab {
            model,
            texts,
            scores,
            attrs: attrs.clone(),
            to_id,
            ranks,
            specials: Specials::default(),
            linefeed: None,
            add_bos: false,
            add_space_prefix,
            eog: HashSet::new(),
            partition: Vec::new(),
            partition_finder: None,
            pieces: Vec::new(),
            byte_tokens: Vec::new(),
            letters: Letters::new(),
        };
        v.byte_tokens = (0..=255u8)
            .map(|b| {
                v.id(&format!("<0x{b:02X}>"))
                    .or_else(|| std::str::from_utf8(&[b]).ok().and_then(|s| v.id(s)))
            })
            .collect();

        // The newline token is found before any special token is known.
        v.linefeed = match model {
            Model::Spm => v.byte_tokens[b'\n' as usize],
            Model::Bpe => {
                let mut ids = Vec::new();
                v.tokenize_into("\n", false, &mut ids);
                ids.first().copied()
            }
        };

        let in_range = |id: TokenId| (id >= 0 && (id as usize) < n).then_some(id);
        let mut sp = match model {
            Model::Spm => Specials {
                bos: in_range(1),
                eos: in_range(2),
                unk: in_range(0),
                ..Specials::default()
            },
            Model::Bpe => Specials {
                bos: in_range(11),
                eos: in_range(11),
                ..Specials::default()
            },
        };
        for &(k, id) in &raw.ids {
            if id >= n {
                continue; // llama.cpp warns and keeps the default
            }
            let id = Some(id as TokenId);
            match k {
                "bos_token_id" => sp.bos = id,
                "eos_token_id" => sp.eos = id,
                "eot_token_id" => sp.eot = id,
                "eom_token_id" => sp.eom = id,
                "unknown_token_id" => sp.unk = id,
                "seperator_token_id" => sp.sep = id,
                "padding_token_id" => sp.pad = id,
                "mask_token_id" => sp.mask = id,
                "fim_pre_token_id" | "prefix_token_id" => sp.fim_pre = id,
                "fim_suf_token_id" | "suffix_token_id" => sp.fim_suf = id,
                "fim_mid_token_id" | "middle_token_id" => sp.fim_mid = id,
                "fim_pad_token_id" => sp.fim_pad = id,
                "fim_rep_token_id" => sp.fim_rep = id,
                "fim_sep_token_id" => sp.fim_sep = id,
                _ => {}
            }
        }
        if let Some(b) = raw.add_bos {
            add_bos = b;
        }

        // Name-based detection of EOT/EOM/FIM tokens. llama.cpp walks a hash map and keeps
        // the first match; with several candidates that order is unspecified, so take the
        // lowest id (only the FIM ones can differ in effect, and fcbench's models have one).
        let find =
            |names: &[&str]| -> Option<TokenId> { names.iter().filter_map(|n| v.id(n)).min() };
        let mark_control = |id: Option<TokenId>, attrs: &mut [u32]| {
            if let Some(id) = id {
                attrs[id as usize] |= ATTR_CONTROL;
            }
        };
        for (slot, names) in [
            (&mut sp.eot, EOT_NAMES),
            (&mut sp.eom, &["<|eom_id|>"][..]),
            (&mut sp.fim_pre, FIM_PRE_NAMES),
            (&mut sp.fim_suf, FIM_SUF_NAMES),
            (&mut sp.fim_mid, FIM_MID_NAMES),
            (&mut sp.fim_pad, FIM_PAD_NAMES),
            (&mut sp.fim_rep, FIM_REP_NAMES),
            (&mut sp.fim_sep, &["<|file_sep|>"][..]),
        ] {
            if slot.is_none() {
                *slot = find(names);
                mark_control(*slot, &mut attrs);
            }
        }
        // Control tokens named "unused" are unused.
        for (a, t) in attrs.iter_mut().zip(&v.texts) {
            if *a & ATTR_CONTROL != 0 && t.contains("unused") {
                *a |= ATTR_UNUSED;
            }
        }
        let mut eog: HashSet<TokenId> = [sp.fim_pad, sp.fim_rep, sp.fim_sep]
            .into_iter()
            .flatten()
            .collect();
        for name in EOG_NAMES {
            if let Some(id) = v.id(name) {
                eog.insert(id);
                attrs[id as usize] |= ATTR_CONTROL;
            }
        }
        for name in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let Some(id) = v.id(name) {
                attrs[id as usize] = ATTR_USER_DEFINED;
            }
        }
        eog.extend([sp.eos, sp.eot, sp.eom].into_iter().flatten());
        // llama.cpp's workarounds: `<|end|>` is no EOG beside `<|return|>`/`<|call|>` (or
        // `<|calls|>`/`<|flush|>`), and `</s>` is a normal token beside `<|tool_response>`.
        let eog_named = |name: &str| v.id(name).filter(|t| eog.contains(t));
        let has = |name: &str| eog_named(name).is_some();
        let has_call = has("<|call|>") || has("<|calls|>");
        let end =
            eog_named("<|end|>").filter(|_| has_call && (has("<|return|>") || has("<|flush|>")));
        let normal_s = has("<|tool_response>") || has("<|plamo:eos|>");
        let s = eog_named("</s>").filter(|_| normal_s);
        if let Some(end) = end {
            eog.remove(&end);
            attrs[end as usize] = ATTR_USER_DEFINED;
        }
        if let Some(s) = s {
            eog.remove(&s);
            attrs[s as usize] = ATTR_NORMAL;
        }

        let mut partition: Vec<TokenId> = (0..n as TokenId)
            .filter(|&t| attrs[t as usize] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN) != 0)
            .collect();
        partition.sort_by_key(|&t| std::cmp::Reverse(v.texts[t as usize].len()));

        v.attrs = attrs;
        v.pieces = (0..n).map(|i| v.piece(i)).collect();

        // Per-model strip attributes, set after the piece cache as in llama.cpp.
        let name = raw.general_name.to_lowercase();
        if ["jina-v2-de", "jina-v2-es", "jina-v2-code", "mmbert"]
            .iter()
            .any(|s| raw.pre.contains(s))
            || ["nomic-bert-moe", "jina-bert-v3"]
                .iter()
                .any(|s| raw.arch.contains(s))
        {
            v.set_attr("<mask>", ATTR_LSTRIP, true);
        } else if name.contains("phi-3") || name.contains("phi3") {
            for &t in &partition {
                v.attrs[t as usize] |= ATTR_RSTRIP;
            }
            v.set_attr("</s>", ATTR_RSTRIP, true);
            for t in ["<unk>", "<s>", "<|endoftext|>"] {
                v.set_attr(t, ATTR_RSTRIP, false);
            }
        } else if name.contains("modern-bert") {
            v.set_attr("[MASK]", ATTR_LSTRIP, true);
        }

        v.partition_finder = if partition.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(partition.iter().map(|&t| v.texts[t as usize].as_str()))
                    .map_err(|e| (key("tokens"), format!("special-token matcher: {e}")))?,
            )
        };
        v.partition = partition;
        v.specials = sp;
        v.add_bos = add_bos;
        v.eog = eog;
        Ok(v)
    }

    fn set_attr(&mut self, text: &str, bit: u32, on: bool) {
        if let Some(&id) = self.to_id.get(text) {
            let a = &mut self.attrs[id as usize];
            *a = if on { *a | bit } else { *a & !bit };
        }
    }

    /// llama.cpp's `token_to_piece(id, special = true)` without its cache.
    fn piece(&self, i: usize) -> Vec<u8> {
        let attr = self.attrs[i];
        let text = &self.texts[i];
        if attr & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED) != 0 {
            return text.as_bytes().to_vec();
        }
        if attr & ATTR_NORMAL != 0 {
            return match self.model {
                Model::Spm => text.replace('\u{2581}', " ").into_bytes(),
                Model::Bpe => byte_decode(text),
            };
        }
        if attr & ATTR_BYTE != 0 {
            let hex = text.get(3..5).unwrap_or("");
            return vec![u8::from_str_radix(hex, 16).unwrap_or(0)];
        }
        Vec::new()
    }
}

impl fcbench_core::backend::Vocabulary for Vocab {
    fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<TokenId>, BackendError> {
        Ok(Vocab::tokenize(self, text, add_bos))
    }

    fn token_bytes(&self, token: TokenId) -> Vec<u8> {
        Vocab::token_bytes(self, token)
    }

    /// The token that `text` is, if it tokenizes to exactly one token that prints as `text`.
    fn single_token(&self, text: &str) -> Option<TokenId> {
        let t = Vocab::tokenize(self, text, false);
        (t.len() == 1 && Vocab::token_bytes(self, t[0]) == text.as_bytes()).then(|| t[0])
    }

    fn is_end_of_generation(&self, token: TokenId) -> bool {
        self.eog.contains(&token)
    }

    /// llama.cpp's attributes, read from the file: unused, or control with no role (BOS, EOS,
    /// EOT, padding, newline).
    fn token_kind(&self, token: TokenId) -> TokenKind {
        let attr = usize::try_from(token)
            .ok()
            .and_then(|i| self.attrs.get(i))
            .copied()
            .unwrap_or(0);
        let s = &self.specials;
        if attr & ATTR_UNUSED != 0 {
            TokenKind::Unused
        } else if attr & ATTR_CONTROL != 0
            && ![s.bos, s.eos, s.eot, s.pad, self.linefeed].contains(&Some(token))
        {
            TokenKind::Control
        } else {
            TokenKind::Other
        }
    }

    fn vocab_size(&self) -> usize {
        self.texts.len()
    }
}

const EOT_NAMES: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];
const FIM_PRE_NAMES: &[&str] = &[
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
];
const FIM_SUF_NAMES: &[&str] = &[
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
];
const FIM_MID_NAMES: &[&str] = &[
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
];
const FIM_PAD_NAMES: &[&str] = &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP_NAMES: &[&str] = &[
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
];
/// Token texts llama.cpp treats as end of generation whatever the metadata says.
const EOG_NAMES: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];

fn read_raw(md: &Meta) -> Result<Raw, GgufError> {
    let strings = |key: &str| -> Result<Vec<String>, GgufError> {
        md.get(key)?
            .to_vec()
            .map_err(|e| md.err(key, crate::candle_reason(&e)))?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.to_string()
                    .cloned()
                    .map_err(|e| md.err(key, format!("element {i}: {e}")))
            })
            .collect()
    };
    let opt_array = |key: &str| -> Result<Option<&Vec<Value>>, GgufError> {
        match md.c.metadata.get(key) {
            None => Ok(None),
            Some(v) => v
                .to_vec()
                .map(Some)
                .map_err(|e| md.err(key, crate::candle_reason(&e))),
        }
    };
    let model = md.string("tokenizer.ggml.model")?;
    let pre = match md.c.metadata.get("tokenizer.ggml.pre") {
        Some(_) => md.string("tokenizer.ggml.pre")?,
        None => String::new(),
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    let scores = match opt_array("tokenizer.ggml.scores")? {
        None => None,
        Some(a) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::F32(x) => Ok(*x),
                    Value::I32(x) => Ok(*x as f32),
                    other => Err(md.err(
                        "tokenizer.ggml.scores",
                        format!("element {i}: expected f32 or i32, found {other:?}"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let types = match opt_array("tokenizer.ggml.token_type")? {
        None => None,
        Some(a) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    v.to_i32().map_err(|e| {
                        md.err("tokenizer.ggml.token_type", format!("element {i}: {e}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let merges = match md.c.metadata.get("tokenizer.ggml.merges") {
        Some(_) => strings("tokenizer.ggml.merges")?,
        None => Vec::new(),
    };
    let mut ids = Vec::new();
    for k in ID_KEYS {
        if let Some(id) = md.opt_usize(&format!("tokenizer.ggml.{k}"))? {
            ids.push((*k, id));
        }
    }
    let opt_string = |key: &str| match md.c.metadata.get(key) {
        Some(_) => md.string(key).map(Some),
        None => Ok(None),
    };
    Ok(Raw {
        model,
        pre,
        tokens,
        scores,
        types,
        merges,
        ids,
        add_bos: md.opt_bool("tokenizer.ggml.add_bos_token")?,
        add_space_prefix: md.opt_bool("tokenizer.ggml.add_space_prefix")?,
        general_name: opt_string("general.name")?.unwrap_or_default(),
        arch: opt_string("general.architecture")?.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fragment {
    /// Byte range of the input still to tokenize.
    Raw(usize, usize),
    Token(TokenId),
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// llama.cpp's `unicode_len_utf8`: sequence length from the first byte.
fn utf8_len(b: u8) -> usize {
    const LOOKUP: [usize; 16] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
    LOOKUP[(b >> 4) as usize]
}

#[derive(Debug, Clone, Copy)]
struct Sym {
    prev: i32,
    next: i32,
    start: usize,
    n: usize,
}

/// Both tokenizers' merge step: symbol `r` joins `l`, its right neighbour, and leaves the list.
fn merge_right_into(syms: &mut [Sym], l: usize, r: usize) {
    syms[l].n += syms[r].n;
    syms[r].n = 0;
    syms[l].next = syms[r].next;
    let after = syms[r].next;
    if after >= 0 {
        syms[after as usize].prev = l as i32;
    }
}

/// A candidate SPM merge: the highest score first, then the leftmost.
struct SpmBigram {
    left: i32,
    right: i32,
    score: f32,
    size: usize,
}

impl Ord for SpmBigram {
    fn cmp(&self, o: &Self) -> Ordering {
        self.score
            .partial_cmp(&o.score)
            .unwrap_or(Ordering::Equal)
            .then(o.left.cmp(&self.left))
    }
}
impl PartialOrd for SpmBigram {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for SpmBigram {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for SpmBigram {}

/// A candidate BPE merge: the lowest rank first, then the leftmost.
struct BpeBigram {
    left: i32,
    right: i32,
    rank: u32,
    left_n: usize,
    right_n: usize,
}

impl Ord for BpeBigram {
    fn cmp(&self, o: &Self) -> Ordering {
        o.rank.cmp(&self.rank).then(o.left.cmp(&self.left))
    }
}
impl PartialOrd for BpeBigram {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for BpeBigram {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for BpeBigram {}

/// Unicode general category L, from regex-syntax's tables (llama.cpp's `is_letter`).
struct Letters(Vec<(char, char)>);

impl Letters {
    fn new() -> Letters {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::parse(r"\p{L}").expect("\\p{L} is a valid class");
        let ranges = match hir.kind() {
            HirKind::Class(Class::Unicode(c)) => {
                c.ranges().iter().map(|r| (r.start(), r.end())).collect()
            }
            _ => unreachable!("\\p{{L}} parses to a Unicode class"),
        };
        Letters(ranges)
    }

    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphabetic();
        }
        self.0
            .binary_search_by(|&(a, b)| {
                if b < c {
                    Ordering::Less
                } else if a > c {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            })
            .is_ok()
    }
}

/// The pieces of a raw fragment under llama.cpp's `\p{N}` split followed by its hand-written
/// GPT-2 regex (`unicode_regex_split_custom_gpt2`), as byte ranges of `text`.
fn pre_tokenize<'t>(text: &'t str, letters: &Letters) -> Vec<&'t str> {
    let cpts: Vec<(usize, char)> = text.char_indices().collect();
    let mut words = Vec::new();
    // First pass: every numeric character alone, the runs between them as they are.
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, &(_, c)) in cpts.iter().enumerate() {
        if c.is_numeric() {
            if i > start {
                pieces.push(start..i);
            }
            pieces.push(i..i + 1);
            start = i + 1;
        }
    }
    if start < cpts.len() {
        pieces.push(start..cpts.len());
    }
    let byte_at = |i: usize| cpts.get(i).map_or(text.len(), |&(b, _)| b);
    for p in pieces {
        for (a, b) in gpt2_split(&cpts[p.clone()], letters) {
            words.push(&text[byte_at(p.start + a)..byte_at(p.start + b)]);
        }
    }
    words
}

#[derive(Clone, Copy, Default)]
struct Flags {
    in_range: bool,
    letter: bool,
    number: bool,
    space: bool,
}

/// `unicode_regex_split_custom_gpt2` on one piece: codepoint ranges of its words.
fn gpt2_split(cpts: &[(usize, char)], letters: &Letters) -> Vec<(usize, usize)> {
    let n = cpts.len();
    let flags = |p: usize| match cpts.get(p) {
        Some(&(_, c)) => Flags {
            in_range: true,
            letter: letters.contains(c),
            number: c.is_numeric(),
            space: c.is_whitespace(),
        },
        None => Flags::default(),
    };
    let cpt = |p: usize| cpts.get(p).map(|&(_, c)| c);
    let mut out = Vec::new();
    let mut prev = 0;
    let mut pos = 0;
    let mut add = |end: usize, out: &mut Vec<(usize, usize)>| {
        if end > prev {
            out.push((prev, end));
        }
        prev = end;
    };
    while pos < n {
        let c = cpts[pos].1;
        // 's|'t|'re|'ve|'m|'ll|'d
        if c == '\'' && pos + 1 < n {
            let c1 = cpts[pos + 1].1;
            if matches!(c1, 's' | 't' | 'm' | 'd') {
                pos += 2;
                add(pos, &mut out);
                continue;
            }
            if pos + 2 < n {
                let c2 = cpts[pos + 2].1;
                if matches!((c1, c2), ('r', 'e') | ('v', 'e') | ('l', 'l')) {
                    pos += 3;
                    add(pos, &mut out);
                    continue;
                }
            }
        }
        let space = usize::from(c == ' ');
        let mut f2 = if c == ' ' { flags(pos + 1) } else { flags(pos) };
        // <space>?\p{L}+
        if f2.letter {
            pos += space;
            while f2.letter {
                pos += 1;
                f2 = flags(pos);
            }
            add(pos, &mut out);
            continue;
        }
        // <space>?\p{N}+
        if f2.number {
            pos += space;
            while f2.number {
                pos += 1;
                f2 = flags(pos);
            }
            add(pos, &mut out);
            continue;
        }
        // <space>?[^\s\p{L}\p{N}]+
        if !(f2.space || f2.letter || f2.number) && f2.in_range {
            pos += space;
            while !(f2.space || f2.letter || f2.number) && f2.in_range {
                pos += 1;
                f2 = flags(pos);
            }
            add(pos, &mut out);
            continue;
        }
        let mut spaces = 0;
        while flags(pos + spaces).space {
            spaces += 1;
        }
        // \s+(?!\S)
        if spaces > 1 && cpt(pos + spaces).is_some() {
            pos += spaces - 1;
            add(pos, &mut out);
            continue;
        }
        // \s+
        if spaces > 0 {
            pos += spaces;
            add(pos, &mut out);
            continue;
        }
        pos += 1;
        add(pos, &mut out);
    }
    out
}

/// GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the rest
/// map to U+0100 onwards in byte order.
fn byte_char(b: u8) -> char {
    const TABLE: [char; 256] = {
        let mut t = ['\0'; 256];
        let mut n = 0u32;
        let mut b = 0usize;
        while b < 256 {
            let printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
            t[b] = if printable {
                b as u8 as char
            } else {
                let c = match char::from_u32(256 + n) {
                    Some(c) => c,
                    None => '\0',
                };
                n += 1;
                c
            };
            b += 1;
        }
        t
    };
    TABLE[b as usize]
}

fn byte_encode(word: &str) -> String {
    word.bytes().map(byte_char).collect()
}

/// The inverse of [`byte_char`], with llama.cpp's `[UNK_BYTE_…]` for characters outside it.
fn byte_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let cp = c as u32;
        let byte = if cp < 256 && byte_char(cp as u8) == c {
            Some(cp as u8)
        } else if (256..256 + 68).contains(&cp) {
            (0..=255u8).find(|&b| byte_char(b) == c)
        } else {
            None
        };
        match byte {
            Some(b) => out.push(b),
            None => {
                out.extend_from_slice(b"[UNK_BYTE_0x");
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.extend_from_slice(format!("{b:02x}").as_bytes());
                }
                out.extend_from_slice(text.as_bytes());
                out.push(b']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fcbench_core::backend::Vocabulary;

    fn words(text: &str) -> Vec<&str> {
        pre_tokenize(text, &Letters::new())
    }

    #[test]
    fn digits_split_alone_then_gpt2_rules() {
        assert_eq!(words("abc 123"), ["abc", " ", "1", "2", "3"]);
        assert_eq!(words("Hello, world!"), ["Hello", ",", " world", "!"]);
        assert_eq!(words("it's we'll"), ["it", "'s", " we", "'ll"]);
        // Whitespace before a word leaves its last space to the word.
        assert_eq!(words("a   b"), ["a", "  ", " b"]);
        assert_eq!(words("a\n\nb"), ["a", "\n", "\n", "b"]);
        assert_eq!(words("x  "), ["x", "  "]);
        assert_eq!(words("héllo wörld ٣"), ["héllo", " wörld", " ", "٣"]);
        assert_eq!(words(" {\"a\": 1}"), [" {\"", "a", "\":", " ", "1", "}"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn byte_table_round_trips() {
        for b in 0..=255u8 {
            let c = byte_char(b);
            assert_eq!(byte_decode(&c.to_string()), [b]);
        }
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
        assert_eq!(byte_encode("a b"), "aĠb");
        assert!(byte_decode("☃").starts_with(b"[UNK_BYTE_0xe29883"));
    }

    fn spm_vocab(tokens: &[(&str, f32, i32)], add_space_prefix: bool) -> Vocab {
        let mut toks: Vec<String> = tokens.iter().map(|t| t.0.to_string()).collect();
        let mut scores: Vec<f32> = tokens.iter().map(|t| t.1).collect();
        let mut types: Vec<i32> = tokens.iter().map(|t| t.2).collect();
        for b in 0..=255u8 {
            toks.push(format!("<0x{b:02X}>"));
            scores.push(0.0);
            types.push(6);
        }
        Vocab::build(Raw {
            model: "llama".into(),
            tokens: toks,
            scores: Some(scores),
            types: Some(types),
            add_space_prefix: Some(add_space_prefix),
            ..Raw::default()
        })
        .unwrap()
    }

    #[test]
    fn spm_merges_by_score_with_byte_fallback() {
        let v = spm_vocab(
            &[
                ("<unk>", 0.0, 2),
                ("<s>", 0.0, 3),
                ("</s>", 0.0, 3),
                ("a", -1.0, 1),
                ("b", -1.0, 1),
                ("c", -1.0, 1),
                ("ab", -2.0, 1),
                ("bc", -1.5, 1),
                ("abc", -3.0, 1),
                ("▁", -1.0, 1),
                ("▁a", -0.5, 1),
                ("<ctl>", 0.0, 3),
                ("<unused0>", 0.0, 3),
            ],
            false,
        );
        let id = |s: &str| v.id(s).unwrap();
        // "bc" outscores "ab"; any adjacent pair that is a token then merges, whatever its score.
        assert_eq!(v.tokenize("abc", false), [id("abc")]);
        assert_eq!(v.tokenize("ab", false), [id("ab")]);
        assert_eq!(v.tokenize(" ab", false), [id("▁a"), id("b")]);
        // "é" is no token: its two UTF-8 bytes fall back to byte tokens.
        assert_eq!(v.tokenize("é", false), [id("<0xC3>"), id("<0xA9>")]);
        assert_eq!(
            v.tokenize("a<ctl>b", true),
            [id("<s>"), id("a"), id("<ctl>"), id("b")]
        );
        assert!(v.tokenize("", false).is_empty());
        assert_eq!(v.token_bytes(id("▁a")), b" a");
        assert_eq!(v.token_bytes(id("<0x0A>")), b"\n");
        assert_eq!(v.token_bytes(id("<ctl>")), b"<ctl>");
        assert!(v.is_end_of_generation(id("</s>")));
        assert_eq!(v.single_token("<ctl>"), Some(id("<ctl>")));
        assert_eq!(v.single_token("abc"), Some(id("abc")));
        assert_eq!(v.single_token("ba"), None);
        // Unused first, then control tokens with no role.
        assert_eq!(
            fcbench_core::markers::spare_tokens(&v),
            [id("<unused0>"), id("<ctl>")]
        );
    }

    #[test]
    fn spm_space_prefix_follows_special_tokens() {
        let v = spm_vocab(
            &[
                ("<unk>", 0.0, 2),
                ("<s>", 0.0, 3),
                ("</s>", 0.0, 3),
                ("▁a", -0.5, 1),
                ("a", -1.0, 1),
                ("▁", -1.0, 1),
            ],
            true,
        );
        let id = |s: &str| v.id(s).unwrap();
        assert_eq!(
            v.tokenize("a</s>a", false),
            [id("▁a"), id("</s>"), id("▁a")]
        );
    }

    #[test]
    fn partition_splits_longest_special_first() {
        let v = spm_vocab(
            &[
                ("<unk>", 0.0, 2),
                ("<s>", 0.0, 3),
                ("</s>", 0.0, 3),
                ("<a>", 0.0, 4),
                ("<a><b>", 0.0, 4),
                ("x", -1.0, 1),
            ],
            false,
        );
        let id = |s: &str| v.id(s).unwrap();
        assert_eq!(
            v.tokenize("x<a><b><a>x", false),
            [id("x"), id("<a><b>"), id("<a>"), id("x")]
        );
        // Control tokens stay text unless special tokens are parsed.
        assert_eq!(v.partition("<s><s>", false), [Fragment::Raw(0, 6)]);
        assert_eq!(
            v.partition("<s><s>x", true),
            [Fragment::Token(1), Fragment::Token(1), Fragment::Raw(6, 7)]
        );
    }

    #[test]
    fn bpe_merges_by_rank() {
        let toks = ["a", "b", "c", "ab", "bc", "Ġ", "Ġa", "<|im_end|>", "<x>"];
        let v = Vocab::build(Raw {
            model: "gpt2".into(),
            pre: "smollm".into(),
            tokens: toks.iter().map(|s| s.to_string()).collect(),
            types: Some(vec![1, 1, 1, 1, 1, 1, 1, 3, 3]),
            merges: vec!["b c".into(), "a b".into(), "Ġ a".into()],
            ..Raw::default()
        })
        .unwrap();
        let id = |s: &str| v.id(s).unwrap();
        assert_eq!(v.tokenize("abc", true), [id("a"), id("bc")]);
        assert_eq!(
            v.tokenize("ab a<|im_end|>", true),
            [id("ab"), id("Ġa"), id("<|im_end|>")]
        );
        assert!(v.is_end_of_generation(id("<|im_end|>")));
        assert_eq!(v.token_bytes(id("Ġa")), b" a");
        assert_eq!(fcbench_core::markers::spare_tokens(&v), [id("<x>")]);
    }

    fn content(entries: Vec<(&str, Value)>) -> Content {
        Content {
            magic: candle_core::quantized::gguf_file::VersionedMagic::GgufV3,
            metadata: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            tensor_infos: HashMap::new(),
            tensor_data_offset: 0,
        }
    }

    fn strings(items: &[&str]) -> Value {
        Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
    }

    #[test]
    fn reads_gguf_metadata() {
        let c = content(vec![
            ("tokenizer.ggml.model", Value::String("gpt2".into())),
            ("tokenizer.ggml.pre", Value::String("smollm".into())),
            (
                "tokenizer.ggml.tokens",
                strings(&["<|endoftext|>", "a", "b", "ab"]),
            ),
            (
                "tokenizer.ggml.token_type",
                Value::Array(vec![
                    Value::I32(3),
                    Value::I32(1),
                    Value::I32(1),
                    Value::I32(1),
                ]),
            ),
            ("tokenizer.ggml.merges", strings(&["a b"])),
            ("tokenizer.ggml.bos_token_id", Value::U32(0)),
            ("tokenizer.ggml.eos_token_id", Value::U32(0)),
            ("tokenizer.ggml.add_bos_token", Value::Bool(true)),
        ]);
        let v = Vocab::from_gguf("m.gguf", &c).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.tokenize("ab<|endoftext|>", true), [0, 3, 0]);
        assert!(v.is_end_of_generation(0));
        assert_eq!((v.bos(), v.eos(), v.adds_bos()), (Some(0), Some(0), true));
    }

    #[test]
    fn bad_metadata_names_file_and_key() {
        let missing = content(vec![(
            "tokenizer.ggml.model",
            Value::String("llama".into()),
        )]);
        let e = Vocab::from_gguf("m.gguf", &missing)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("m.gguf") && e.contains("tokenizer.ggml.tokens"),
            "{e}"
        );
        let wrong = content(vec![
            ("tokenizer.ggml.model", Value::String("llama".into())),
            ("tokenizer.ggml.tokens", strings(&["a", "b"])),
            ("tokenizer.ggml.scores", strings(&["x", "y"])),
        ]);
        let e = Vocab::from_gguf("m.gguf", &wrong)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("tokenizer.ggml.scores") && e.contains("element 0"),
            "{e}"
        );
    }

    #[test]
    fn unknown_tokenizers_are_named_errors() {
        let err = Vocab::build(Raw {
            model: "gpt2".into(),
            pre: "llama-bpe".into(),
            tokens: vec!["a".into()],
            merges: vec!["a a".into()],
            ..Raw::default()
        })
        .err()
        .unwrap();
        assert_eq!(err.0, "tokenizer.ggml.pre");
        assert!(err.1.contains("llama-bpe"), "{}", err.1);
        let err = Vocab::build(Raw {
            model: "t5".into(),
            ..Raw::default()
        })
        .err()
        .unwrap();
        assert_eq!(err.0, "tokenizer.ggml.model");
    }
}
