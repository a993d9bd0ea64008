//! Reads ESC/POS bytes back: GB18030 text lines, QR code data, cuts. Any
//! command it does not know fails the test, so a receipt cannot hide bytes
//! from the checks. A raster image (`GS v 0`) is read as a picture and
//! decoded as a QR code with `rqrr`, as a phone would scan the paper; an
//! image that is not a readable QR code fails the test.

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
                b'v' if arg(2) == b'0' => {
                    let row_bytes = usize::from(arg(4)) | usize::from(arg(5)) << 8;
                    let height = usize::from(arg(6)) | usize::from(arg(7)) << 8;
                    let start = i + 8;
                    let end = start + row_bytes * height;
                    assert!(end <= bytes.len(), "truncated raster image at {i}");
                    items.push(Item::Qr(scan_qr(&bytes[start..end], row_bytes, height)));
                    i = end;
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

/// The raster image's dots as a grey picture (a dot is black), scanned for
/// exactly one QR code.
fn scan_qr(bits: &[u8], row_bytes: usize, height: usize) -> String {
    let width = row_bytes * 8;
    let dark = |x: usize, y: usize| bits[y * row_bytes + x / 8] & (0x80 >> (x % 8)) != 0;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        if dark(x, y) {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the {width}×{height} image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

/// The size of the raster images, `(dots wide, dots high)`, in order.
pub fn image_sizes(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut sizes = Vec::new();
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .windows(4)
        .position(|w| w == [0x1D, b'v', b'0', 0])
    {
        let i = at + found;
        let row_bytes = usize::from(bytes[i + 4]) | usize::from(bytes[i + 5]) << 8;
        let height = usize::from(bytes[i + 6]) | usize::from(bytes[i + 7]) << 8;
        sizes.push((row_bytes * 8, height));
        at = i + 8 + row_bytes * height;
    }
    sizes
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
