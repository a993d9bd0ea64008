//! The few bytes of POSIX tar (ustar) that a sealed record of format 2
//! needs: regular files with short names, written and read back.
//!
//! Why tar: `age -d … | tar -x` is how a person at the county opens a
//! sealed record with standard tools, with no program of ours. Why not a
//! tar library: the reader sees bytes from outside, so it accepts exactly
//! what [`write_member`] writes (ustar regular files, checksums right, no
//! links, no long-name extensions) and refuses everything else with an
//! error, never a panic.

use std::io::{self, Write};

/// Tar's block: headers and data are padded to it.
pub const BLOCK: usize = 512;
/// A ustar name field holds at most this many bytes (no prefix is written).
pub const MAX_NAME_BYTES: usize = 100;

const NAME: std::ops::Range<usize> = 0..100;
const MODE: std::ops::Range<usize> = 100..108;
const UID: std::ops::Range<usize> = 108..116;
const GID: std::ops::Range<usize> = 116..124;
const SIZE: std::ops::Range<usize> = 124..136;
const MTIME: std::ops::Range<usize> = 136..148;
const CHECKSUM: std::ops::Range<usize> = 148..156;
const TYPEFLAG: usize = 156;
const MAGIC: std::ops::Range<usize> = 257..263;
const VERSION: std::ops::Range<usize> = 263..265;
const PREFIX: std::ops::Range<usize> = 345..500;

const USTAR_MAGIC: &[u8; 6] = b"ustar\0";
const USTAR_VERSION: &[u8; 2] = b"00";

/// True when `bytes` starts with a ustar header (the magic at its place).
pub fn looks_like_ustar(bytes: &[u8]) -> bool {
    bytes.get(MAGIC) == Some(&USTAR_MAGIC[..])
}

/// `value` as zero-padded octal filling `field` but its last byte (NUL).
fn put_octal(field: &mut [u8], value: u64) -> io::Result<()> {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    if text.len() != digits {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "value too large for a ustar field",
        ));
    }
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
    Ok(())
}

fn checksum(header: &[u8; BLOCK]) -> u64 {
    header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if CHECKSUM.contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(*b)
            }
        })
        .sum()
}

fn padding(len: usize) -> usize {
    (BLOCK - len % BLOCK) % BLOCK
}

/// Writes one regular file (mode 0644, owner 0, time 0 so the same content
/// gives the same bytes): header, data, zero padding to the block.
pub fn write_member<W: Write>(out: &mut W, name: &str, data: &[u8]) -> io::Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a ustar member name must be 1 to 100 bytes without NUL",
        ));
    }
    let mut header = [0u8; BLOCK];
    header[..name.len()].copy_from_slice(name.as_bytes());
    put_octal(&mut header[MODE], 0o644)?;
    put_octal(&mut header[UID], 0)?;
    put_octal(&mut header[GID], 0)?;
    put_octal(&mut header[SIZE], data.len() as u64)?;
    put_octal(&mut header[MTIME], 0)?;
    header[TYPEFLAG] = b'0';
    header[MAGIC].copy_from_slice(USTAR_MAGIC);
    header[VERSION].copy_from_slice(USTAR_VERSION);
    // Six octal digits, NUL, space: as POSIX and GNU tar write it.
    let sum = format!("{:06o}\0 ", checksum(&header));
    header[CHECKSUM].copy_from_slice(sum.as_bytes());
    out.write_all(&header)?;
    out.write_all(data)?;
    out.write_all(&[0u8; BLOCK][..padding(data.len())])
}

/// Writes the end of the archive: two zero blocks.
pub fn write_end<W: Write>(out: &mut W) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

/// The size [`write_member`] writes for `data_len` bytes of data.
pub fn member_len(data_len: usize) -> usize {
    BLOCK + data_len + padding(data_len)
}

/// Why an archive does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UstarError {
    #[error("the archive ends inside a member or before its end blocks")]
    Truncated,
    #[error("member {index}: not a ustar header")]
    NotUstar { index: usize },
    #[error("member {index}: header checksum does not match")]
    Checksum { index: usize },
    #[error("member {index}: only regular files are read (type {typeflag:?})")]
    NotAFile { index: usize, typeflag: char },
    #[error("member {index}: bad {field} field")]
    Field { index: usize, field: &'static str },
    #[error("bytes after the end of the archive")]
    TrailingData,
}

/// One regular file of the archive, borrowing its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
}

/// The members of `archive`, in order; see [`Members`].
pub fn members(archive: &[u8]) -> Members<'_> {
    Members {
        rest: archive,
        index: 0,
        done: false,
    }
}

/// Iterates an archive's members. After the end blocks only zero bytes may
/// follow (tar pads archives to a record size); anything else is an error.
pub struct Members<'a> {
    rest: &'a [u8],
    index: usize,
    done: bool,
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let end = field
        .iter()
        .position(|b| *b == 0 || *b == b' ')
        .unwrap_or(field.len());
    let digits = &field[..end];
    if digits.is_empty() || field[end..].iter().any(|b| *b != 0 && *b != b' ') {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, d| match d {
        b'0'..=b'7' => acc.checked_mul(8)?.checked_add(u64::from(d - b'0')),
        _ => None,
    })
}

impl<'a> Members<'a> {
    fn next_member(&mut self) -> Result<Option<Member<'a>>, UstarError> {
        let index = self.index;
        let Some((header, rest)) = self.rest.split_first_chunk::<BLOCK>() else {
            return Err(UstarError::Truncated);
        };
        if header.iter().all(|b| *b == 0) {
            // The end: a second zero block, then nothing but zeros.
            if rest.len() < BLOCK {
                return Err(UstarError::Truncated);
            }
            if rest.iter().any(|b| *b != 0) {
                return Err(UstarError::TrailingData);
            }
            return Ok(None);
        }
        if header[MAGIC] != USTAR_MAGIC[..] || header[VERSION] != USTAR_VERSION[..] {
            return Err(UstarError::NotUstar { index });
        }
        if parse_octal(&header[CHECKSUM]) != Some(checksum(header)) {
            return Err(UstarError::Checksum { index });
        }
        let typeflag = header[TYPEFLAG];
        if typeflag != b'0' && typeflag != 0 {
            return Err(UstarError::NotAFile {
                index,
                typeflag: char::from(typeflag),
            });
        }
        if header[PREFIX].iter().any(|b| *b != 0) {
            return Err(UstarError::Field {
                index,
                field: "prefix",
            });
        }
        let name_field = &header[NAME];
        let name_len = name_field
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(name_field.len());
        let name = std::str::from_utf8(&name_field[..name_len])
            .ok()
            .filter(|n| !n.is_empty())
            .ok_or(UstarError::Field {
                index,
                field: "name",
            })?;
        let size = parse_octal(&header[SIZE])
            .and_then(|s| usize::try_from(s).ok())
            .ok_or(UstarError::Field {
                index,
                field: "size",
            })?;
        let padded = size
            .checked_add(padding(size))
            .ok_or(UstarError::Truncated)?;
        if rest.len() < padded {
            return Err(UstarError::Truncated);
        }
        let (data, rest) = rest.split_at(size);
        self.rest = &rest[padding(size)..];
        self.index += 1;
        Ok(Some(Member { name, data }))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Member<'a>, UstarError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_member();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in files {
            write_member(&mut out, name, data).unwrap();
        }
        write_end(&mut out).unwrap();
        out
    }

    #[test]
    fn members_read_back_as_written() {
        let big = vec![7u8; 1500];
        let bytes = archive(&[
            ("record.json", b"{}"),
            ("photos/a.jpg", &big),
            ("empty", b""),
        ]);
        assert_eq!(
            bytes.len(),
            member_len(2) + member_len(1500) + member_len(0) + 2 * BLOCK
        );
        let read: Vec<_> = members(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            read,
            [
                Member {
                    name: "record.json",
                    data: b"{}"
                },
                Member {
                    name: "photos/a.jpg",
                    data: &big
                },
                Member {
                    name: "empty",
                    data: b""
                },
            ]
        );
        assert!(looks_like_ustar(&bytes));
        assert!(!looks_like_ustar(b"{\"format\": 1}"));
    }

    #[test]
    fn record_padding_after_the_end_is_accepted_anything_else_refused() {
        let mut bytes = archive(&[("a", b"x")]);
        bytes.resize(10_240, 0);
        assert_eq!(members(&bytes).count(), 1);
        bytes.push(1);
        assert_eq!(members(&bytes).last(), Some(Err(UstarError::TrailingData)));
    }

    #[test]
    fn damaged_archives_are_refused_with_the_reason() {
        let good = archive(&[("a", b"hello")]);
        let first_error = |bytes: &[u8]| members(bytes).find_map(Result::err);

        assert_eq!(
            first_error(&good[..good.len() - BLOCK]),
            Some(UstarError::Truncated)
        );
        assert_eq!(first_error(&good[..BLOCK + 3]), Some(UstarError::Truncated));

        let mut flipped = good.clone();
        flipped[0] = b'b';
        assert_eq!(
            first_error(&flipped),
            Some(UstarError::Checksum { index: 0 })
        );

        let mut link = Vec::new();
        write_member(&mut link, "a", b"").unwrap();
        link[TYPEFLAG] = b'2';
        let sum = format!("{:06o}\0 ", checksum(link[..BLOCK].try_into().unwrap()));
        link[CHECKSUM].copy_from_slice(sum.as_bytes());
        write_end(&mut link).unwrap();
        assert_eq!(
            first_error(&link),
            Some(UstarError::NotAFile {
                index: 0,
                typeflag: '2'
            })
        );

        let mut not_tar = good.clone();
        not_tar[MAGIC].copy_from_slice(b"ustar ");
        assert_eq!(
            first_error(&not_tar),
            Some(UstarError::NotUstar { index: 0 })
        );
    }

    #[test]
    fn names_longer_than_the_field_are_refused_when_writing() {
        let long = "p".repeat(MAX_NAME_BYTES + 1);
        assert!(write_member(&mut Vec::new(), &long, b"").is_err());
        assert!(write_member(&mut Vec::new(), "", b"").is_err());
        assert!(write_member(&mut Vec::new(), &long[..MAX_NAME_BYTES], b"").is_ok());
    }

    proptest! {
        #[test]
        fn reading_any_bytes_gives_members_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = members(&bytes).count();
        }

        #[test]
        fn a_damaged_archive_gives_members_or_an_error(at in 0usize..2560, value in any::<u8>()) {
            let mut bytes = archive(&[("record.json", b"{\"a\": 1}"), ("photos/x.jpg", &[9u8; 700])]);
            let at = at % bytes.len();
            bytes[at] = value;
            let _ = members(&bytes).count();
        }
    }
}
