//! Reads ESC/POS bytes back: GB18030 text lines, QR code data, cuts. Any
//! command it does not know fails the test, so a receipt cannot hide bytes
//! from the checks.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Line(String),
    Qr(String),
    Cut,
}

pub fn decode(bytes: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut text: Vec<u8> = Vec::new();
    let mut chinese_mode = false;
    let mut i = 0;
    let flush = |text: &mut Vec<u8>, items: &mut Vec<Item>, chinese: bool| {
        assert!(
            chinese || text.iter().all(u8::is_ascii),
            "Chinese text before FS &"
        );
        let (line, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(text);
        assert!(!had_errors, "not GB18030: {text:02X?}");
        items.push(Item::Line(line.into_owned()));
        text.clear();
    };
    while i < bytes.len() {
        let b = bytes[i];
        let arg = |k: usize| {
            bytes
                .get(i + k)
                .copied()
                .unwrap_or_else(|| panic!("truncated command at {i}"))
        };
        match b {
            0x0A => {
                flush(&mut text, &mut items, chinese_mode);
                i += 1;
            }
            0x1B => match arg(1) {
                b'@' => i += 2,
                b'd' => {
                    flush(&mut text, &mut items, chinese_mode);
                    for _ in 1..arg(2) {
                        items.push(Item::Line(String::new()));
                    }
                    i += 3;
                }
                b'a' | b'E' | b'!' | b'-' | b'M' | b'G' => i += 3,
                other => panic!("unknown ESC {other:#04x} at {i}"),
            },
            0x1C => match arg(1) {
                b'&' => {
                    chinese_mode = true;
                    i += 2;
                }
                b'.' => {
                    chinese_mode = false;
                    i += 2;
                }
                other => panic!("unknown FS {other:#04x} at {i}"),
            },
            0x1D => match arg(1) {
                b'!' => i += 3,
                b'V' if arg(2) == b'A' || arg(2) == b'B' => {
                    items.push(Item::Cut);
                    i += 4;
                }
                b'V' => {
                    items.push(Item::Cut);
                    i += 3;
                }
                b'(' if arg(2) == b'k' => {
                    let len = usize::from(arg(3)) | usize::from(arg(4)) << 8;
                    let body = &bytes[i + 5..i + 5 + len];
                    // cn 49 = QR; fn 80 = store data (then m = 48).
                    if body[0] == 49 && body[1] == 80 {
                        items.push(Item::Qr(String::from_utf8(body[3..].to_vec()).unwrap()));
                    }
                    i += 5 + len;
                }
                other => panic!("unknown GS {other:#04x} at {i}"),
            },
            0x10 => panic!("stray DLE at {i}"),
            _ => {
                text.push(b);
                i += 1;
            }
        }
    }
    assert!(
        text.is_empty(),
        "text after the last line feed: {text:02X?}"
    );
    items
}

/// The text lines only.
pub fn lines(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Line(line) => Some(line.clone()),
            _ => None,
        })
        .collect()
}
