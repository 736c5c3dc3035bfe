//! The mutator: a small random number generator and the edits it makes to a spec's bytes.
//!
//! Everything here is a pure function of the corpus and the generator, and the generator of
//! input `i` is seeded from the run's seed and `i` alone: input `i` of a run is the same
//! however the run got there, which is what lets the supervisor rebuild the input a dead worker
//! was running, and a seed reproduce a run.

use pyslim_spec::KEYS;

/// The largest input made: longer ones are cut, so one input never costs much more than another.
pub const MAX_INPUT: usize = 64 * 1024;

/// SplitMix64: small, fast, and the same on every machine and Rust version.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of input `index` in the run seeded with `seed`.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        let mut mix = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Rng(mix.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `0..=n`.
    pub fn upto(&mut self, n: usize) -> usize {
        self.below(n + 1)
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Small numbers much more often than large ones: 1..=max, log-uniform.
    pub fn small(&mut self, max: usize) -> usize {
        let bits = usize::BITS - max.leading_zeros();
        let limit = (1usize << self.upto(bits as usize)).min(max).max(1);
        1 + self.below(limit)
    }
}

/// What YAML, the spec's `${ARG}` expansion and the values' checks treat specially.
const TOKENS: &[&str] = &[
    "- ",
    ": ",
    ":",
    "[",
    "]",
    "{",
    "}",
    ",",
    "${",
    "}",
    "${PYTHON}",
    "${X:-",
    "$$",
    "$",
    "\"",
    "'",
    "\\",
    "\0",
    "---\n",
    "...\n",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "#",
    " #",
    "&a ",
    "*a",
    "!t ",
    "!!str ",
    "|",
    "|-\n",
    ">",
    "? ",
    "~",
    "null",
    "true",
    "no",
    "0x1",
    "1e9",
    "-1",
    "0",
    "3.11",
    "\"3.12\"",
    "4294967296",
    "18446744073709551616",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "\u{10FFFF}",
    "%YAML 1.2\n",
    "%TAG ! x\n",
    "..",
    "../",
    "/",
    "//",
    "*",
    "**",
    "=",
    "==",
    ">=",
    "@",
    "git+ssh://",
    "https://",
    "a:b@",
    "\\n",
    " ",
    "  ",
    "    ",
    "\n  ",
    "\n    - ",
    "\n- ",
    "<<: ",
    "[]",
    "{}",
    "\"\"",
    "''",
    "wheels",
    "app",
    "source",
    "package",
    "uv",
    "pip",
    "root",
    "host",
    "default",
    "env",
    "id",
    "secret",
    "0:0",
    "65535",
    "65536",
    "/tmp",
    "/app",
];

/// What inputs are mutated from, in the order they joined.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    pub inputs: Vec<Vec<u8>>,
    /// Which of them are valid specs: most edits break a spec, so these are picked half the
    /// time, to keep reaching plan → lower → marshal.
    pub valid: Vec<usize>,
}

impl Corpus {
    pub fn push(&mut self, input: Vec<u8>, valid: bool) {
        if valid {
            self.valid.push(self.inputs.len());
        }
        self.inputs.push(input);
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// A mutation of one input picked from `corpus` (which must not be empty): one to eight edits
/// stacked.
pub fn mutate(corpus: &Corpus, rng: &mut Rng) -> Vec<u8> {
    let mut data = if !corpus.valid.is_empty() && rng.chance(2) {
        corpus.inputs[*rng.pick(&corpus.valid)].clone()
    } else {
        rng.pick(&corpus.inputs).clone()
    };
    let edits = rng.small(8);
    for _ in 0..edits {
        edit(&mut data, &corpus.inputs, rng);
    }
    data.truncate(MAX_INPUT);
    data
}

fn edit(data: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng) {
    let len = data.len();
    match rng.below(16) {
        // A flipped bit.
        0 if len > 0 => {
            let at = rng.below(len);
            data[at] ^= 1 << rng.below(8);
        }
        // A byte YAML cares about, or any byte.
        1 if len > 0 => {
            let at = rng.below(len);
            data[at] = if rng.chance(2) {
                *rng.pick(b"-:[]{}$\"'#&*!|>?%@,\n\t \\\0")
            } else {
                rng.next_u64() as u8
            };
        }
        // A few random bytes in.
        2 => {
            let at = rng.upto(len);
            let bytes: Vec<u8> = (0..rng.small(8)).map(|_| rng.next_u64() as u8).collect();
            insert(data, at, &bytes);
        }
        // A range out.
        3 if len > 0 => {
            let at = rng.below(len);
            let n = rng.small(len - at);
            data.drain(at..at + n);
        }
        // A range of itself copied elsewhere.
        4 if len > 0 => {
            let from = rng.below(len);
            let n = rng.small(len - from);
            let chunk = data[from..from + n].to_vec();
            insert(data, rng.upto(len), &chunk);
        }
        // A piece of another input spliced in.
        5 => {
            let other = rng.pick(corpus);
            if !other.is_empty() {
                let from = rng.below(other.len());
                let n = rng.small(other.len() - from);
                insert(data, rng.upto(len), &other[from..from + n]);
            }
        }
        // The head of this one, the tail of another.
        6 => {
            let other = rng.pick(corpus);
            let cut = rng.upto(len);
            let rest = rng.upto(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[rest..]);
        }
        // A token, at a line start or anywhere.
        7 | 8 => {
            let token = rng.pick(TOKENS).as_bytes();
            let at = place(data, rng);
            insert(data, at, token);
        }
        // A key the spec knows, with a value, on a line of its own.
        9 => {
            let key = rng.pick(KEYS).name;
            let value = rng.pick(TOKENS);
            let indent = " ".repeat(2 * rng.below(3));
            let line = format!("{indent}{key}: {value}\n");
            let at = line_start(data, rng);
            insert(data, at, line.as_bytes());
        }
        // A token many times over: deep flow or block nesting, long runs.
        10 => {
            let token = *rng.pick(&["[", "{", "- ", "  - ", "? ", "${", "\\", "a", " ", "\n"]);
            let times = rng.small(32 * 1024);
            let at = place(data, rng);
            insert(data, at, token.repeat(times).as_bytes());
        }
        // Deep indentation.
        11 => {
            let at = line_start(data, rng);
            let spaces = " ".repeat(rng.small(512));
            insert(data, at, spaces.as_bytes());
        }
        // A long line.
        12 => {
            let at = place(data, rng);
            let c = *rng.pick(&["a", "x ", "é", "-", "9", "\"", ":"]);
            insert(data, at, c.repeat(rng.small(64 * 1024)).as_bytes());
        }
        // Lines: one duplicated, dropped, or re-indented.
        13..=15 => {
            let lines = line_bounds(data);
            if lines.is_empty() {
                return;
            }
            let (start, end) = *rng.pick(&lines);
            match rng.below(4) {
                0 => {
                    let line = data[start..end].to_vec();
                    insert(data, end, &line);
                }
                1 => {
                    data.drain(start..end);
                }
                2 => insert(data, start, b"  "),
                _ => {
                    let spaces = data[start..end].iter().take_while(|&&b| b == b' ').count();
                    data.drain(start..start + spaces.min(2));
                }
            }
        }
        _ => {}
    }
}

fn insert(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    data.splice(at..at, bytes.iter().copied());
}

/// Anywhere, or at the start of a line (after its indentation, half the time).
fn place(data: &[u8], rng: &mut Rng) -> usize {
    if rng.chance(2) {
        rng.upto(data.len())
    } else {
        let at = line_start(data, rng);
        if rng.chance(2) {
            at
        } else {
            at + data[at..].iter().take_while(|&&b| b == b' ').count()
        }
    }
}

fn line_start(data: &[u8], rng: &mut Rng) -> usize {
    let lines = line_bounds(data);
    if lines.is_empty() {
        0
    } else {
        rng.pick(&lines).0
    }
}

/// Each line's start and end (past its newline).
fn line_bounds(data: &[u8]) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            lines.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < data.len() {
        lines.push((start, data.len()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_inputs() {
        let mut corpus = Corpus::default();
        corpus.push(b"python: \"3.11\"\nrequirements: r.txt\n".to_vec(), true);
        corpus.push(Vec::new(), false);
        let run = |seed| -> Vec<Vec<u8>> {
            (0..500)
                .map(|i| mutate(&corpus, &mut Rng::for_input(seed, i)))
                .collect()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn inputs_stay_bounded() {
        let mut corpus = Corpus::default();
        corpus.push(vec![b'a'; MAX_INPUT], false);
        for i in 0..200 {
            assert!(mutate(&corpus, &mut Rng::for_input(1, i)).len() <= MAX_INPUT);
        }
    }
}
