//! Mutations: byte-level "havoc" (as AFL stacks them), text-aware edits
//! with a dictionary of each format's words, and structure-aware edits of
//! JSON values (TOML goes through the same JSON tree), so inputs get past
//! the syntax check and reach the checks behind it.

use serde_json::{Map, Number, Value};

/// A small deterministic generator (SplitMix64): an input is a function of
/// (run seed, target, iteration), so every failure can be made again.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len()))
        }
    }

    /// A length biased to small values, up to `max`.
    pub fn small_len(&mut self, max: usize) -> usize {
        let bits = self.below(usize::BITS as usize - max.leading_zeros() as usize + 1);
        self.below((1usize << bits).min(max.saturating_add(1)))
    }
}

/// Mix a seed, a name and an index into one generator seed.
pub fn mix(seed: u64, name: &str, index: u64) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = Rng::new(h ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.next_u64()
}

const INTERESTING_BYTES: [u8; 10] = [0x00, 0x01, 0x7F, 0x80, 0xFF, b'"', b'\\', b'\n', b'=', b'&'];

/// Numbers that break parsers: limits, signs, exponents, leading zeros.
pub const INTERESTING_NUMBERS: [&str; 24] = [
    "0",
    "-0",
    "-1",
    "1",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "-2147483648",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e308",
    "1e309",
    "-1e309",
    "0.1",
    "1.5e-324",
    "00000001",
    "NaN",
    "inf",
];

/// Characters that break text handling: multi-byte, wide, combining,
/// control, bidi, the replacement character, and CJK.
pub const INTERESTING_CHARS: [char; 22] = [
    '\0',
    '\t',
    '\r',
    '\n',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{200b}',
    '\u{202e}',
    '\u{feff}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10ffff}',
    '\u{0301}',
    '\u{3000}',
    '（',
    '）',
    '张',
    '𠀀',
    '😀',
    '＊',
    'ß',
];

/// Byte havoc: 1 to 16 stacked edits of `base`; `others` gives splice
/// material, `dict` the format's words. The result is at most `max_len`.
pub fn havoc(
    rng: &mut Rng,
    base: &[u8],
    others: &[Vec<u8>],
    dict: &[Vec<u8>],
    max_len: usize,
) -> Vec<u8> {
    let mut data = base.to_vec();
    let spread = 1 << rng.below(5);
    let rounds = 1 + rng.below(spread);
    for _ in 0..rounds {
        mutate_once(rng, &mut data, others, dict, max_len);
    }
    data.truncate(max_len);
    data
}

fn random_range(rng: &mut Rng, len: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let size = rng.small_len(len - start);
    (start, start + size)
}

fn mutate_once(
    rng: &mut Rng,
    data: &mut Vec<u8>,
    others: &[Vec<u8>],
    dict: &[Vec<u8>],
    max_len: usize,
) {
    let len = data.len();
    match rng.below(16) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next_u64() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
        }
        3 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.small_len(32);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let (a, b) = random_range(rng, len);
            data.drain(a..b);
        }
        5 if len > 0 => {
            let (a, b) = random_range(rng, len);
            let chunk = data[a..b].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        6 => {
            if let Some(other) = rng.pick(others) {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
        }
        7 | 8 => {
            if let Some(word) = rng.pick(dict).cloned() {
                let at = rng.below(len + 1);
                if rng.percent(50) || len == 0 {
                    data.splice(at..at, word);
                } else {
                    let end = (at + word.len()).min(len);
                    data.splice(at..end, word);
                }
            }
        }
        9 => replace_number(rng, data),
        10 if len > 0 => data.truncate(rng.below(len)),
        11 if len > 0 => {
            // A chunk repeated many times: long lines, deep nesting.
            let (a, b) = random_range(rng, len);
            let chunk = data[a..b.max(a + 1).min(len)].to_vec();
            let times = 1 + rng.small_len(4096);
            let at = rng.below(len + 1);
            let mut grown = Vec::with_capacity(chunk.len() * times);
            for _ in 0..times {
                if grown.len() + chunk.len() > max_len {
                    break;
                }
                grown.extend_from_slice(&chunk);
            }
            data.splice(at..at, grown);
        }
        12 => {
            let c = INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())];
            let mut buf = [0u8; 4];
            let at = char_boundary_near(data, rng.below(len + 1));
            data.splice(at..at, c.encode_utf8(&mut buf).bytes());
        }
        13 if len > 1 => {
            let (a, b) = random_range(rng, len);
            let (c, d) = random_range(rng, len);
            if b <= c {
                let first = data[a..b].to_vec();
                let second = data[c..d].to_vec();
                data.splice(c..d, first);
                data.splice(a..b, second);
            }
        }
        14 if len > 3 => {
            let i = rng.below(len - 3);
            let value: u32 = *rng
                .pick(&[
                    0,
                    1,
                    0x7F,
                    0x80,
                    0xFF,
                    0x100,
                    0x7FFF,
                    0xFFFF,
                    0x1_0000,
                    u32::MAX,
                ])
                .unwrap_or(&0);
            let bytes = if rng.percent(50) {
                value.to_le_bytes()
            } else {
                value.to_be_bytes()
            };
            let width = *rng.pick(&[1usize, 2, 4]).unwrap_or(&1);
            data[i..i + width].copy_from_slice(&bytes[..width]);
        }
        _ => {
            let at = rng.below(len + 1);
            let word = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())];
            data.splice(at..at, word.bytes());
        }
    }
}

fn char_boundary_near(data: &[u8], mut at: usize) -> usize {
    while at > 0 && at < data.len() && (data[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    at
}

/// Replace a run of ASCII digits with an interesting number.
fn replace_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let digits: Vec<usize> = data
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let Some(&start) = rng.pick(&digits) else {
        return;
    };
    let mut end = start;
    while end < data.len() && data[end].is_ascii_digit() {
        end += 1;
    }
    let word = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())];
    data.splice(start..end, word.bytes());
}

/// Some text of the format's alphabet: dictionary words, interesting
/// characters, or random characters.
pub fn random_text(rng: &mut Rng, dict: &[Vec<u8>]) -> String {
    match rng.below(6) {
        0 => String::new(),
        1 => rng
            .pick(dict)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .unwrap_or_default(),
        2 => {
            let c = INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())];
            std::iter::repeat_n(c, 1 + rng.small_len(5000)).collect()
        }
        3 => INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].to_string(),
        _ => (0..rng.small_len(64))
            .map(|_| match rng.below(4) {
                0 => char::from_u32(0x4E00 + rng.below(0x5000) as u32).unwrap_or('字'),
                1 => INTERESTING_CHARS[rng.below(INTERESTING_CHARS.len())],
                _ => char::from(b' ' + rng.below(95) as u8),
            })
            .collect(),
    }
}

fn random_scalar(rng: &mut Rng, dict: &[Vec<u8>]) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => Value::Bool(rng.percent(50)),
        2 => Value::from(
            *rng.pick(&[0i64, -1, 1, i64::MAX, i64::MIN, 255, 65536])
                .unwrap_or(&0),
        ),
        3 => Value::from(u64::MAX),
        4 => Number::from_f64(*rng.pick(&[0.5, -0.0, 1e300, -1e-300, 3.25]).unwrap_or(&0.5))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        5 => Value::Array(Vec::new()),
        6 => Value::Object(Map::new()),
        7 => {
            // Deep nesting: parsers with recursion limits must say no, not overflow.
            let mut v = Value::Null;
            for _ in 0..rng.small_len(200) {
                v = Value::Array(vec![v]);
            }
            v
        }
        _ => Value::String(random_text(rng, dict)),
    }
}

/// Edit one node of a JSON tree: replace, remove, add, duplicate or alter.
pub fn mutate_json(rng: &mut Rng, root: &mut Value, dict: &[Vec<u8>]) {
    // Walk down from the root, stopping at each level with some chance.
    let children = match &*root {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if children > 0 && !rng.percent(25) {
        let i = rng.below(children);
        let child = match root {
            Value::Array(a) => a.get_mut(i),
            Value::Object(o) => o.values_mut().nth(i),
            _ => None,
        };
        if let Some(child) = child {
            return mutate_json(rng, child, dict);
        }
        return;
    }
    let node = root;
    match node {
        Value::Object(o) if rng.percent(60) => {
            let keys: Vec<String> = o.keys().cloned().collect();
            match rng.below(3) {
                0 => {
                    if let Some(k) = rng.pick(&keys) {
                        o.remove(k);
                    }
                }
                1 => {
                    let key = if rng.percent(70) {
                        rng.pick(&keys).cloned().unwrap_or_default() + "_x"
                    } else {
                        random_text(rng, dict)
                    };
                    o.insert(key, random_scalar(rng, dict));
                }
                _ => {
                    if let Some(k) = rng.pick(&keys) {
                        let v = random_scalar(rng, dict);
                        o.insert(k.clone(), v);
                    }
                }
            }
        }
        Value::Array(a) if rng.percent(60) => {
            if a.is_empty() || rng.percent(30) {
                a.push(random_scalar(rng, dict));
            } else if rng.percent(50) {
                let i = rng.below(a.len());
                a.remove(i);
            } else {
                let i = rng.below(a.len());
                let copy = a[i].clone();
                for _ in 0..1 + rng.small_len(300) {
                    a.push(copy.clone());
                }
            }
        }
        Value::String(s) if rng.percent(70) => {
            let mut bytes = std::mem::take(s).into_bytes();
            bytes = havoc(rng, &bytes, &[], dict, 1 << 16);
            *s = String::from_utf8_lossy(&bytes).into_owned();
        }
        Value::Number(n) if rng.percent(70) => {
            let v = n.as_i64().unwrap_or(0);
            *node = Value::from(match rng.below(5) {
                0 => v.wrapping_add(1),
                1 => v.wrapping_sub(1),
                2 => v.wrapping_neg(),
                3 => v.wrapping_mul(1000),
                _ => 0,
            });
        }
        other => *other = random_scalar(rng, dict),
    }
}

/// Words of a text, for a dictionary: identifiers, quoted strings, numbers.
pub fn words_of(text: &str) -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .filter(|w| !w.is_empty() && w.len() < 64)
        .map(|w| w.as_bytes().to_vec())
        .collect();
    words.sort();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_input() {
        let seeds = vec![b"hello world 123".to_vec()];
        let a = havoc(&mut Rng::new(7), &seeds[0], &seeds, &[], 1024);
        let b = havoc(&mut Rng::new(7), &seeds[0], &seeds, &[], 1024);
        assert_eq!(a, b);
    }

    #[test]
    fn havoc_respects_the_length_cap_and_changes_inputs() {
        let seed = b"key = \"value\"\n".to_vec();
        let mut changed = 0;
        for i in 0..2000 {
            let out = havoc(&mut Rng::new(i), &seed, &[], &[b"[[x]]".to_vec()], 256);
            assert!(out.len() <= 256);
            changed += usize::from(out != seed);
        }
        // Some edits are no-ops (a splice without material, a swap of overlapping ranges).
        assert!(changed > 1700, "only {changed} of 2000 inputs changed");
    }
}
