//! GA 467 frames exchanged with the ID card reader's SAM over a serial line.
//!
//! ```text
//! AA AA AA 96 69 | LEN (2 bytes, big-endian) | body | CHK
//! ```
//! LEN counts every byte after itself, CHK included. CHK is the XOR of the
//! two LEN bytes and every body byte. A request body is CMD PARA [data];
//! a response body is SW1 SW2 SW3 [data], where SW3 is the status
//! ([`Sw3Status`]) and SW1 SW2 are 00 00 on every SAM we know of.

use std::fmt;

use thiserror::Error;

/// The five bytes every frame starts with.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Preamble plus the two LEN bytes.
const HEADER_LEN: usize = PREAMBLE.len() + 2;

/// The largest LEN value (it is a u16).
const MAX_LEN_FIELD: usize = u16::MAX as usize;

/// What can be wrong with a frame's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame does not start with AA AA AA 96 69")]
    Preamble,
    #[error("frame of {found} bytes is too short for a header")]
    Truncated { found: usize },
    #[error("length field says {declared} bytes follow it, but {actual} do")]
    Length { declared: usize, actual: usize },
    #[error("frame body of {found} bytes is shorter than the {needed} bytes this kind needs")]
    BodyTooShort { found: usize, needed: usize },
    #[error("checksum byte is {found:#04x}, computed {computed:#04x}")]
    Checksum { found: u8, computed: u8 },
    #[error("unknown command {cmd:#04x} {para:#04x}")]
    Command { cmd: u8, para: u8 },
    #[error("command {cmd:#04x} {para:#04x} carries {len} unexpected data bytes")]
    UnexpectedData { cmd: u8, para: u8, len: usize },
    #[error("{len} data bytes do not fit in one frame")]
    TooLong { len: usize },
}

impl FrameError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::Preamble => "frame_preamble",
            FrameError::Truncated { .. }
            | FrameError::Length { .. }
            | FrameError::BodyTooShort { .. }
            | FrameError::UnexpectedData { .. } => "frame_length",
            FrameError::Checksum { .. } => "frame_checksum",
            FrameError::Command { .. } => "frame_command",
            FrameError::TooLong { .. } => "frame_too_long",
        }
    }

    /// Plain Chinese for the person at the kiosk. A garbled frame is almost
    /// always a bad contact, so the advice is to put the card down again.
    pub fn message_zh(&self) -> String {
        match self {
            FrameError::Command { .. } | FrameError::TooLong { .. } => {
                "读卡器通信出错，请联系工作人员".to_string()
            }
            _ => "读卡时数据传输出错，请拿起身份证后重新平放在读卡区域".to_string(),
        }
    }
}

fn xor_checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, byte| acc ^ byte)
}

/// Frame `body` (which must be at most 65 534 bytes; callers check).
fn encode_frame(body: &[u8]) -> Vec<u8> {
    let len_field = u16::try_from(body.len() + 1).unwrap_or(u16::MAX);
    let mut frame = Vec::with_capacity(HEADER_LEN + body.len() + 1);
    frame.extend_from_slice(&PREAMBLE);
    frame.extend_from_slice(&len_field.to_be_bytes());
    frame.extend_from_slice(body);
    let checksum = xor_checksum(frame.get(PREAMBLE.len()..).unwrap_or_default());
    frame.push(checksum);
    frame
}

/// Check preamble, length and checksum of exactly one frame; return its body.
fn split_frame(bytes: &[u8]) -> Result<&[u8], FrameError> {
    let checked = bytes.len().min(PREAMBLE.len());
    if bytes.get(..checked) != PREAMBLE.get(..checked) {
        return Err(FrameError::Preamble);
    }
    let (Some(&len_hi), Some(&len_lo)) = (bytes.get(5), bytes.get(6)) else {
        return Err(FrameError::Truncated { found: bytes.len() });
    };
    let declared = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let actual = bytes.len() - HEADER_LEN;
    if declared != actual {
        return Err(FrameError::Length { declared, actual });
    }
    let Some((&found, covered)) = bytes.split_last() else {
        return Err(FrameError::Truncated { found: 0 });
    };
    if declared == 0 {
        return Err(FrameError::BodyTooShort {
            found: 0,
            needed: 1,
        });
    }
    let computed = xor_checksum(covered.get(PREAMBLE.len()..).unwrap_or_default());
    if computed != found {
        return Err(FrameError::Checksum { found, computed });
    }
    Ok(covered.get(HEADER_LEN..).unwrap_or_default())
}

/// The commands a kiosk sends to the SAM. None of them carries data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// 10 FF: reset the SAM.
    ResetSam,
    /// 11 FF: SAM status check.
    SamStatus,
    /// 12 FF: read the SAM's management number.
    ReadSamId,
    /// 20 01: look for a card in the field.
    FindCard,
    /// 20 02: select the card found.
    SelectCard,
    /// 30 01: read the text block and the photo.
    ReadTextPhoto,
    /// 30 10: read text, photo and fingerprint data.
    ReadTextPhotoFingerprint,
    /// 30 03: read the additional (later) address.
    ReadAdditionalAddress,
}

impl Request {
    /// Every request, for tests and tools.
    pub const ALL: [Request; 8] = [
        Request::ResetSam,
        Request::SamStatus,
        Request::ReadSamId,
        Request::FindCard,
        Request::SelectCard,
        Request::ReadTextPhoto,
        Request::ReadTextPhotoFingerprint,
        Request::ReadAdditionalAddress,
    ];

    /// (CMD, PARA).
    pub fn command(self) -> (u8, u8) {
        match self {
            Request::ResetSam => (0x10, 0xFF),
            Request::SamStatus => (0x11, 0xFF),
            Request::ReadSamId => (0x12, 0xFF),
            Request::FindCard => (0x20, 0x01),
            Request::SelectCard => (0x20, 0x02),
            Request::ReadTextPhoto => (0x30, 0x01),
            Request::ReadTextPhotoFingerprint => (0x30, 0x10),
            Request::ReadAdditionalAddress => (0x30, 0x03),
        }
    }

    /// The request with this (CMD, PARA), if it is one we know.
    pub fn from_command(cmd: u8, para: u8) -> Option<Request> {
        Request::ALL
            .into_iter()
            .find(|request| request.command() == (cmd, para))
    }

    /// The complete frame, e.g. `AA AA AA 96 69 00 03 20 01 22` for FindCard.
    pub fn encode(self) -> Vec<u8> {
        let (cmd, para) = self.command();
        encode_frame(&[cmd, para])
    }

    /// Parse exactly one request frame (what a simulated SAM receives).
    pub fn decode(bytes: &[u8]) -> Result<Request, FrameError> {
        let body = split_frame(bytes)?;
        let [cmd, para, data @ ..] = body else {
            return Err(FrameError::BodyTooShort {
                found: body.len(),
                needed: 2,
            });
        };
        let request = Request::from_command(*cmd, *para).ok_or(FrameError::Command {
            cmd: *cmd,
            para: *para,
        })?;
        if !data.is_empty() {
            return Err(FrameError::UnexpectedData {
                cmd: *cmd,
                para: *para,
                len: data.len(),
            });
        }
        Ok(request)
    }
}

/// SW3, the status byte of every response (GA 467 table, confirmed against
/// several public reader SDKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sw3Status {
    /// 0x90 操作成功.
    Success,
    /// 0x9F 寻找证/卡成功.
    FindCardSuccess,
    /// 0x91 证/卡中此项无内容 (e.g. no additional address).
    NoContent,
    /// 0x10 接收业务终端数据的校验和错.
    ChecksumError,
    /// 0x11 接收业务终端数据的长度错.
    LengthError,
    /// 0x21 接收业务终端的命令错误.
    CommandError,
    /// 0x23 越权操作.
    Unauthorized,
    /// 0x24 无法识别的错误.
    UnrecognisedError,
    /// 0x31 证/卡认证 SAM 失败.
    CardAuthenticatingSamFailed,
    /// 0x32 SAM 认证证/卡失败.
    SamAuthenticatingCardFailed,
    /// 0x33 信息验证错误.
    InfoVerificationError,
    /// 0x40 无法识别的卡类型.
    UnknownCardType,
    /// 0x41 读证/卡操作失败.
    ReadCardFailed,
    /// 0x47 取随机数失败.
    RandomNumberFailed,
    /// 0x60 SAM 自检失败，不能接受命令.
    SamSelfTestFailed,
    /// 0x66 SAM 没有经过授权，无法使用.
    SamNotAuthorised,
    /// 0x80 寻找证/卡失败.
    FindCardFailed,
    /// 0x81 选取证/卡失败.
    SelectCardFailed,
    /// Any other byte. `from_byte` never puts a known code in here.
    Unknown(u8),
}

const SW3_TABLE: [(u8, Sw3Status); 18] = [
    (0x90, Sw3Status::Success),
    (0x9F, Sw3Status::FindCardSuccess),
    (0x91, Sw3Status::NoContent),
    (0x10, Sw3Status::ChecksumError),
    (0x11, Sw3Status::LengthError),
    (0x21, Sw3Status::CommandError),
    (0x23, Sw3Status::Unauthorized),
    (0x24, Sw3Status::UnrecognisedError),
    (0x31, Sw3Status::CardAuthenticatingSamFailed),
    (0x32, Sw3Status::SamAuthenticatingCardFailed),
    (0x33, Sw3Status::InfoVerificationError),
    (0x40, Sw3Status::UnknownCardType),
    (0x41, Sw3Status::ReadCardFailed),
    (0x47, Sw3Status::RandomNumberFailed),
    (0x60, Sw3Status::SamSelfTestFailed),
    (0x66, Sw3Status::SamNotAuthorised),
    (0x80, Sw3Status::FindCardFailed),
    (0x81, Sw3Status::SelectCardFailed),
];

impl Sw3Status {
    pub fn from_byte(byte: u8) -> Sw3Status {
        SW3_TABLE
            .iter()
            .find(|(code, _)| *code == byte)
            .map(|&(_, status)| status)
            .unwrap_or(Sw3Status::Unknown(byte))
    }

    pub fn to_byte(self) -> u8 {
        match self {
            Sw3Status::Unknown(byte) => byte,
            known => SW3_TABLE
                .iter()
                .find(|(_, status)| *status == known)
                .map(|&(code, _)| code)
                .unwrap_or(0),
        }
    }

    /// 0x90 and 0x9F. 0x91 (no content) is not a success: for the
    /// additional-address read it means "nothing to read", which callers
    /// handle on their own.
    pub fn is_success(self) -> bool {
        matches!(self, Sw3Status::Success | Sw3Status::FindCardSuccess)
    }

    /// The GA 467 meaning, in Chinese (for staff and logs shown to staff).
    pub fn meaning_zh(self) -> &'static str {
        match self {
            Sw3Status::Success => "操作成功",
            Sw3Status::FindCardSuccess => "寻找证/卡成功",
            Sw3Status::NoContent => "证/卡中此项无内容",
            Sw3Status::ChecksumError => "接收业务终端数据的校验和错",
            Sw3Status::LengthError => "接收业务终端数据的长度错",
            Sw3Status::CommandError => "接收业务终端的命令错误",
            Sw3Status::Unauthorized => "越权操作",
            Sw3Status::UnrecognisedError => "无法识别的错误",
            Sw3Status::CardAuthenticatingSamFailed => "证/卡认证SAM失败",
            Sw3Status::SamAuthenticatingCardFailed => "SAM认证证/卡失败",
            Sw3Status::InfoVerificationError => "信息验证错误",
            Sw3Status::UnknownCardType => "无法识别的卡类型",
            Sw3Status::ReadCardFailed => "读证/卡操作失败",
            Sw3Status::RandomNumberFailed => "取随机数失败",
            Sw3Status::SamSelfTestFailed => "SAM自检失败，不能接受命令",
            Sw3Status::SamNotAuthorised => "SAM没有经过授权，无法使用",
            Sw3Status::FindCardFailed => "寻找证/卡失败",
            Sw3Status::SelectCardFailed => "选取证/卡失败",
            Sw3Status::Unknown(_) => "未知状态",
        }
    }

    /// What the person at the kiosk should do, in plain Chinese.
    pub fn user_message_zh(self) -> &'static str {
        match self {
            Sw3Status::Success | Sw3Status::FindCardSuccess => "读卡成功",
            Sw3Status::NoContent => "身份证中没有这一项内容",
            Sw3Status::FindCardFailed => "没有找到身份证，请把身份证平放在读卡区域",
            Sw3Status::SelectCardFailed
            | Sw3Status::ReadCardFailed
            | Sw3Status::RandomNumberFailed => "身份证读取失败，请拿起身份证后重新平放在读卡区域",
            Sw3Status::CardAuthenticatingSamFailed
            | Sw3Status::SamAuthenticatingCardFailed
            | Sw3Status::InfoVerificationError => {
                "身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员"
            }
            Sw3Status::UnknownCardType => "无法识别这张卡，请放入居民身份证",
            Sw3Status::ChecksumError
            | Sw3Status::LengthError
            | Sw3Status::CommandError
            | Sw3Status::Unauthorized
            | Sw3Status::UnrecognisedError
            | Sw3Status::SamSelfTestFailed
            | Sw3Status::SamNotAuthorised
            | Sw3Status::Unknown(_) => "读卡器出现故障，请联系工作人员",
        }
    }

    fn meaning_en(self) -> &'static str {
        match self {
            Sw3Status::Success => "success",
            Sw3Status::FindCardSuccess => "card found",
            Sw3Status::NoContent => "no content for this item on the card",
            Sw3Status::ChecksumError => "SAM received a bad checksum",
            Sw3Status::LengthError => "SAM received a bad length",
            Sw3Status::CommandError => "SAM received a bad command",
            Sw3Status::Unauthorized => "unauthorised operation",
            Sw3Status::UnrecognisedError => "unrecognised error",
            Sw3Status::CardAuthenticatingSamFailed => "card failed to authenticate the SAM",
            Sw3Status::SamAuthenticatingCardFailed => "SAM failed to authenticate the card",
            Sw3Status::InfoVerificationError => "information verification error",
            Sw3Status::UnknownCardType => "unknown card type",
            Sw3Status::ReadCardFailed => "reading the card failed",
            Sw3Status::RandomNumberFailed => "getting a random number failed",
            Sw3Status::SamSelfTestFailed => "SAM self-test failed",
            Sw3Status::SamNotAuthorised => "SAM not authorised",
            Sw3Status::FindCardFailed => "no card found",
            Sw3Status::SelectCardFailed => "selecting the card failed",
            Sw3Status::Unknown(_) => "unknown status",
        }
    }
}

impl fmt::Display for Sw3Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW3 {:#04x} ({})", self.to_byte(), self.meaning_en())
    }
}

/// One response from the SAM. Its data always fits in a frame: that is
/// checked when it is built, so [`Response::encode`] cannot fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    sw1: u8,
    sw2: u8,
    status: Sw3Status,
    data: Vec<u8>,
}

impl Response {
    /// The most data bytes one response frame can carry.
    pub const MAX_DATA_LEN: usize = MAX_LEN_FIELD - 4;

    /// A response with SW1 SW2 = 00 00, as real SAMs send.
    pub fn new(status: Sw3Status, data: Vec<u8>) -> Result<Response, FrameError> {
        if data.len() > Self::MAX_DATA_LEN {
            return Err(FrameError::TooLong { len: data.len() });
        }
        Ok(Response {
            sw1: 0,
            sw2: 0,
            status,
            data,
        })
    }

    /// Same response with other SW1 SW2 bytes (for emulating odd readers).
    pub fn with_sw1_sw2(mut self, sw1: u8, sw2: u8) -> Response {
        self.sw1 = sw1;
        self.sw2 = sw2;
        self
    }

    pub fn status(&self) -> Sw3Status {
        self.status
    }

    pub fn sw1_sw2(&self) -> (u8, u8) {
        (self.sw1, self.sw2)
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(3 + self.data.len());
        body.extend_from_slice(&[self.sw1, self.sw2, self.status.to_byte()]);
        body.extend_from_slice(&self.data);
        encode_frame(&body)
    }

    /// Parse exactly one response frame.
    pub fn decode(bytes: &[u8]) -> Result<Response, FrameError> {
        let body = split_frame(bytes)?;
        let [sw1, sw2, sw3, data @ ..] = body else {
            return Err(FrameError::BodyTooShort {
                found: body.len(),
                needed: 3,
            });
        };
        Ok(Response {
            sw1: *sw1,
            sw2: *sw2,
            status: Sw3Status::from_byte(*sw3),
            data: data.to_vec(),
        })
    }
}

/// What [`find_frame`] sees at the start of a serial buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameScan {
    /// The buffer starts with (a prefix of) a frame; at least this many more
    /// bytes are needed before it is complete.
    NeedMore(usize),
    /// `buf[..len]` is one complete frame by its length field. Its checksum
    /// is not checked here: decode it to learn whether it is intact.
    Frame(usize),
    /// The first this-many bytes cannot start a frame; drop them.
    Garbage(usize),
}

/// Look at the start of a serial receive buffer that may hold noise before
/// the preamble, a partial frame, or a whole frame and more.
pub fn find_frame(buf: &[u8]) -> FrameScan {
    // The first offset where a frame could begin: either the full preamble,
    // or the buffer ends in a prefix of it.
    let start = (0..buf.len()).find(|&offset| {
        let rest = buf.get(offset..).unwrap_or_default();
        let compared = rest.len().min(PREAMBLE.len());
        rest.get(..compared) == PREAMBLE.get(..compared)
    });
    match start {
        None if buf.is_empty() => FrameScan::NeedMore(HEADER_LEN),
        None => FrameScan::Garbage(buf.len()),
        Some(offset) if offset > 0 => FrameScan::Garbage(offset),
        Some(_) => {
            let (Some(&len_hi), Some(&len_lo)) = (buf.get(5), buf.get(6)) else {
                return FrameScan::NeedMore(HEADER_LEN - buf.len());
            };
            let declared = usize::from(u16::from_be_bytes([len_hi, len_lo]));
            if declared == 0 {
                // Not even a checksum: this preamble was noise.
                return FrameScan::Garbage(1);
            }
            let total = HEADER_LEN + declared;
            if buf.len() < total {
                FrameScan::NeedMore(total - buf.len())
            } else {
                FrameScan::Frame(total)
            }
        }
    }
}

/// Collects serial bytes and hands out whole frames, dropping noise.
#[derive(Debug, Default, Clone)]
pub struct FrameReader {
    buf: Vec<u8>,
    skipped: usize,
}

impl FrameReader {
    pub fn new() -> FrameReader {
        FrameReader::default()
    }

    /// Append bytes as they arrive.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame (checksum unchecked; decode it), skipping
    /// noise. `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            match find_frame(&self.buf) {
                FrameScan::NeedMore(_) => return None,
                FrameScan::Garbage(count) => {
                    let count = count.min(self.buf.len());
                    self.buf.drain(..count);
                    self.skipped += count;
                }
                FrameScan::Frame(len) => {
                    let len = len.min(self.buf.len());
                    return Some(self.buf.drain(..len).collect());
                }
            }
        }
    }

    /// How many more bytes the frame in progress needs, at least.
    pub fn needed(&self) -> usize {
        match find_frame(&self.buf) {
            FrameScan::NeedMore(count) => count,
            FrameScan::Frame(_) | FrameScan::Garbage(_) => 0,
        }
    }

    /// Noise bytes dropped so far.
    pub fn skipped_bytes(&self) -> usize {
        self.skipped
    }

    /// Bytes held that are not yet a whole frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forget everything buffered (e.g. after a timeout).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn unhex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|pair| u8::from_str_radix(pair, 16).unwrap())
            .collect()
    }

    #[test]
    fn request_frames_match_published_bytes() {
        let table: String = Request::ALL
            .iter()
            .map(|request| format!("{request:?}: {}\n", hex(&request.encode())))
            .collect();
        // FindCard, SelectCard and ReadTextPhoto as printed in reader SDKs.
        expect![[r#"
            ResetSam: AA AA AA 96 69 00 03 10 FF EC
            SamStatus: AA AA AA 96 69 00 03 11 FF ED
            ReadSamId: AA AA AA 96 69 00 03 12 FF EE
            FindCard: AA AA AA 96 69 00 03 20 01 22
            SelectCard: AA AA AA 96 69 00 03 20 02 21
            ReadTextPhoto: AA AA AA 96 69 00 03 30 01 32
            ReadTextPhotoFingerprint: AA AA AA 96 69 00 03 30 10 23
            ReadAdditionalAddress: AA AA AA 96 69 00 03 30 03 30
        "#]]
        .assert_eq(&table);
        for request in Request::ALL {
            assert_eq!(Request::decode(&request.encode()), Ok(request));
        }
    }

    fn check_request(inputs: &[&str], expect: Expect) {
        let table: String = inputs
            .iter()
            .map(|input| match Request::decode(&unhex(input)) {
                Ok(request) => format!("{input} => {request:?}\n"),
                Err(err) => format!(
                    "{input} => {} | {} | {}\n",
                    err.code(),
                    err.message_zh(),
                    err
                ),
            })
            .collect();
        expect.assert_eq(&table);
    }

    #[test]
    fn request_decode_errors() {
        check_request(
            &[
                "",
                "AA AA",
                "AA AA AA 96 69",
                "AA AA AA 96 69 00",
                "AB AA AA 96 69 00 03 20 01 22",
                "AA AA AA 96 69 00 04 20 01 22",
                "AA AA AA 96 69 00 02 20 01 22",
                "AA AA AA 96 69 00 03 20 01 23",
                "AA AA AA 96 69 00 03 20 01 22 00",
                "AA AA AA 96 69 00 00",
                "AA AA AA 96 69 00 01 01",
                "AA AA AA 96 69 00 02 20 22",
                "AA AA AA 96 69 00 03 20 03 20",
                "AA AA AA 96 69 00 04 20 01 00 25",
            ],
            expect![[r#"
                 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame of 0 bytes is too short for a header
                AA AA => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame of 2 bytes is too short for a header
                AA AA AA 96 69 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame of 5 bytes is too short for a header
                AA AA AA 96 69 00 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame of 6 bytes is too short for a header
                AB AA AA 96 69 00 03 20 01 22 => frame_preamble | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame does not start with AA AA AA 96 69
                AA AA AA 96 69 00 04 20 01 22 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | length field says 4 bytes follow it, but 3 do
                AA AA AA 96 69 00 02 20 01 22 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | length field says 2 bytes follow it, but 3 do
                AA AA AA 96 69 00 03 20 01 23 => frame_checksum | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | checksum byte is 0x23, computed 0x22
                AA AA AA 96 69 00 03 20 01 22 00 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | length field says 3 bytes follow it, but 4 do
                AA AA AA 96 69 00 00 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame body of 0 bytes is shorter than the 1 bytes this kind needs
                AA AA AA 96 69 00 01 01 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame body of 0 bytes is shorter than the 2 bytes this kind needs
                AA AA AA 96 69 00 02 20 22 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | frame body of 1 bytes is shorter than the 2 bytes this kind needs
                AA AA AA 96 69 00 03 20 03 20 => frame_command | 读卡器通信出错，请联系工作人员 | unknown command 0x20 0x03
                AA AA AA 96 69 00 04 20 01 00 25 => frame_length | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | command 0x20 0x01 carries 1 unexpected data bytes
            "#]],
        );
    }

    #[test]
    fn response_decode() {
        let inputs = [
            "AA AA AA 96 69 00 04 00 00 9F 9B",
            "AA AA AA 96 69 00 08 00 00 90 01 02 03 04 9C",
            "AA AA AA 96 69 00 04 00 00 80 84",
            "AA AA AA 96 69 00 04 12 34 77 55",
            "AA AA AA 96 69 00 03 00 00 03",
            "AA AA AA 96 69 00 04 00 00 9F 9C",
        ];
        let table: String = inputs
            .iter()
            .map(|input| match Response::decode(&unhex(input)) {
                Ok(response) => format!(
                    "{input} => {} sw1sw2={:?} data=[{}] success={} | {} | {}\n",
                    response.status(),
                    response.sw1_sw2(),
                    hex(response.data()),
                    response.status().is_success(),
                    response.status().meaning_zh(),
                    response.status().user_message_zh(),
                ),
                Err(err) => format!("{input} => {} | {err}\n", err.code()),
            })
            .collect();
        expect![[r#"
            AA AA AA 96 69 00 04 00 00 9F 9B => SW3 0x9f (card found) sw1sw2=(0, 0) data=[] success=true | 寻找证/卡成功 | 读卡成功
            AA AA AA 96 69 00 08 00 00 90 01 02 03 04 9C => SW3 0x90 (success) sw1sw2=(0, 0) data=[01 02 03 04] success=true | 操作成功 | 读卡成功
            AA AA AA 96 69 00 04 00 00 80 84 => SW3 0x80 (no card found) sw1sw2=(0, 0) data=[] success=false | 寻找证/卡失败 | 没有找到身份证，请把身份证平放在读卡区域
            AA AA AA 96 69 00 04 12 34 77 55 => SW3 0x77 (unknown status) sw1sw2=(18, 52) data=[] success=false | 未知状态 | 读卡器出现故障，请联系工作人员
            AA AA AA 96 69 00 03 00 00 03 => frame_length | frame body of 2 bytes is shorter than the 3 bytes this kind needs
            AA AA AA 96 69 00 04 00 00 9F 9C => frame_checksum | checksum byte is 0x9c, computed 0x9b
        "#]]
        .assert_eq(&table);
    }

    #[test]
    fn sw3_table() {
        let table: String = (0u8..=255)
            .map(Sw3Status::from_byte)
            .filter(|status| !matches!(status, Sw3Status::Unknown(_)))
            .map(|status| {
                format!(
                    "{:02X} {:?} success={} {} | {}\n",
                    status.to_byte(),
                    status,
                    status.is_success(),
                    status.meaning_zh(),
                    status.user_message_zh()
                )
            })
            .collect();
        expect![[r#"
            10 ChecksumError success=false 接收业务终端数据的校验和错 | 读卡器出现故障，请联系工作人员
            11 LengthError success=false 接收业务终端数据的长度错 | 读卡器出现故障，请联系工作人员
            21 CommandError success=false 接收业务终端的命令错误 | 读卡器出现故障，请联系工作人员
            23 Unauthorized success=false 越权操作 | 读卡器出现故障，请联系工作人员
            24 UnrecognisedError success=false 无法识别的错误 | 读卡器出现故障，请联系工作人员
            31 CardAuthenticatingSamFailed success=false 证/卡认证SAM失败 | 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
            32 SamAuthenticatingCardFailed success=false SAM认证证/卡失败 | 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
            33 InfoVerificationError success=false 信息验证错误 | 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
            40 UnknownCardType success=false 无法识别的卡类型 | 无法识别这张卡，请放入居民身份证
            41 ReadCardFailed success=false 读证/卡操作失败 | 身份证读取失败，请拿起身份证后重新平放在读卡区域
            47 RandomNumberFailed success=false 取随机数失败 | 身份证读取失败，请拿起身份证后重新平放在读卡区域
            60 SamSelfTestFailed success=false SAM自检失败，不能接受命令 | 读卡器出现故障，请联系工作人员
            66 SamNotAuthorised success=false SAM没有经过授权，无法使用 | 读卡器出现故障，请联系工作人员
            80 FindCardFailed success=false 寻找证/卡失败 | 没有找到身份证，请把身份证平放在读卡区域
            81 SelectCardFailed success=false 选取证/卡失败 | 身份证读取失败，请拿起身份证后重新平放在读卡区域
            90 Success success=true 操作成功 | 读卡成功
            91 NoContent success=false 证/卡中此项无内容 | 身份证中没有这一项内容
            9F FindCardSuccess success=true 寻找证/卡成功 | 读卡成功
        "#]]
        .assert_eq(&table);
        for byte in 0u8..=255 {
            assert_eq!(Sw3Status::from_byte(byte).to_byte(), byte);
        }
    }

    #[test]
    fn response_too_long_is_refused() {
        let err = Response::new(Sw3Status::Success, vec![0; Response::MAX_DATA_LEN + 1]);
        assert_eq!(err.unwrap_err().code(), "frame_too_long");
        let biggest = Response::new(Sw3Status::Success, vec![7; Response::MAX_DATA_LEN]).unwrap();
        let bytes = biggest.encode();
        assert_eq!(&bytes[5..7], &[0xFF, 0xFF]);
        assert_eq!(Response::decode(&bytes).unwrap(), biggest);
    }

    #[test]
    fn find_frame_cases() {
        let inputs = [
            "",
            "AA",
            "AA AA AA 96",
            "AA AA AA 96 69",
            "AA AA AA 96 69 00",
            "AA AA AA 96 69 00 04",
            "AA AA AA 96 69 00 04 00 00 9F",
            "AA AA AA 96 69 00 04 00 00 9F 9B",
            "AA AA AA 96 69 00 04 00 00 9F 9B AA AA",
            "00 11 AA AA AA 96 69 00 04",
            "00 11 22",
            "AA AA AA AA 96 69",
            "AA AA 00 AA AA AA 96 69",
            "AA 96 69",
            "11 AA AA",
            "AA AA AA 96 69 00 00 AA",
        ];
        let table: String = inputs
            .iter()
            .map(|input| format!("{input:?} => {:?}\n", find_frame(&unhex(input))))
            .collect();
        expect![[r#"
            "" => NeedMore(7)
            "AA" => NeedMore(6)
            "AA AA AA 96" => NeedMore(3)
            "AA AA AA 96 69" => NeedMore(2)
            "AA AA AA 96 69 00" => NeedMore(1)
            "AA AA AA 96 69 00 04" => NeedMore(4)
            "AA AA AA 96 69 00 04 00 00 9F" => NeedMore(1)
            "AA AA AA 96 69 00 04 00 00 9F 9B" => Frame(11)
            "AA AA AA 96 69 00 04 00 00 9F 9B AA AA" => Frame(11)
            "00 11 AA AA AA 96 69 00 04" => Garbage(2)
            "00 11 22" => Garbage(3)
            "AA AA AA AA 96 69" => Garbage(1)
            "AA AA 00 AA AA AA 96 69" => Garbage(3)
            "AA 96 69" => Garbage(3)
            "11 AA AA" => Garbage(1)
            "AA AA AA 96 69 00 00 AA" => Garbage(1)
        "#]]
        .assert_eq(&table);
    }

    #[test]
    fn frame_reader_splits_a_noisy_stream() {
        let first = Response::new(Sw3Status::FindCardSuccess, vec![])
            .unwrap()
            .encode();
        let second = Response::new(Sw3Status::Success, vec![1, 2, 3])
            .unwrap()
            .encode();
        let mut stream = vec![0x00, 0xAA, 0x13];
        stream.extend_from_slice(&first);
        stream.extend_from_slice(&[0xAA, 0xAA]);
        stream.extend_from_slice(&second);

        let mut reader = FrameReader::new();
        let mut frames = Vec::new();
        // Feed one byte at a time, as a slow serial line would.
        for byte in &stream {
            reader.push(&[*byte]);
            while let Some(frame) = reader.next_frame() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, vec![first, second]);
        assert_eq!(reader.skipped_bytes(), 5);
        assert_eq!(reader.buffered(), 0);
        assert_eq!(reader.needed(), 7);
        reader.push(&[0xAA, 0xAA]);
        assert_eq!(reader.needed(), 5);
        reader.clear();
        assert_eq!(reader.buffered(), 0);
    }

    fn any_status() -> impl Strategy<Value = Sw3Status> {
        any::<u8>().prop_map(Sw3Status::from_byte)
    }

    proptest! {
        #[test]
        fn response_round_trip(
            status in any_status(),
            sw1 in any::<u8>(),
            sw2 in any::<u8>(),
            data in proptest::collection::vec(any::<u8>(), 0..3000),
        ) {
            let response = Response::new(status, data).unwrap().with_sw1_sw2(sw1, sw2);
            let bytes = response.encode();
            prop_assert_eq!(find_frame(&bytes), FrameScan::Frame(bytes.len()));
            prop_assert_eq!(Response::decode(&bytes).unwrap(), response);
        }

        #[test]
        fn request_round_trip(request in proptest::sample::select(Request::ALL.to_vec())) {
            prop_assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Response::decode(&bytes);
            let _ = Request::decode(&bytes);
            let _ = find_frame(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_framed_noise(
            len in any::<u16>(),
            tail in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = PREAMBLE.to_vec();
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&tail);
            let _ = Response::decode(&bytes);
            let _ = Request::decode(&bytes);
            let _ = find_frame(&bytes);
        }

        #[test]
        fn decode_then_encode_is_identity(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            // Any byte string that decodes re-encodes to exactly itself.
            if let Ok(response) = Response::decode(&bytes) {
                prop_assert_eq!(response.encode(), bytes);
            }
        }

        #[test]
        fn a_flipped_bit_is_detected(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            index in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let mut bytes = Response::new(Sw3Status::Success, data).unwrap().encode();
            let at = index.index(bytes.len());
            bytes[at] ^= 1 << bit;
            prop_assert!(Response::decode(&bytes).is_err());
        }

        #[test]
        fn frame_reader_finds_frames_after_noise(
            noise in proptest::collection::vec(any::<u8>().prop_filter("not AA", |b| *b != 0xAA), 0..50),
            data in proptest::collection::vec(any::<u8>(), 0..100),
            chunk in 1usize..20,
        ) {
            let frame = Response::new(Sw3Status::Success, data).unwrap().encode();
            let mut stream = noise.clone();
            stream.extend_from_slice(&frame);
            let mut reader = FrameReader::new();
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                reader.push(piece);
                while let Some(found) = reader.next_frame() {
                    frames.push(found);
                }
            }
            prop_assert_eq!(frames, vec![frame]);
            prop_assert_eq!(reader.skipped_bytes(), noise.len());
        }

        #[test]
        fn frame_reader_never_panics(
            pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 0..16),
        ) {
            let mut reader = FrameReader::new();
            for piece in &pieces {
                reader.push(piece);
                while let Some(frame) = reader.next_frame() {
                    let _ = Response::decode(&frame);
                }
                let _ = reader.needed();
            }
        }
    }
}
