//! The receipt printer's real-time status (ESC/POS `DLE EOT n`).
//!
//! Each query is three bytes, `10 04 n`, and the printer answers one byte
//! at once, even while busy. Every answer has the fixed bit pattern
//! `0xx1xx10` (bits 1 and 4 set, 0 and 7 clear), which tells a status byte
//! from stray data. The bits used (Epson's ESC/POS reference):
//!
//! | n | what            | bit 2            | bit 3            | bit 5           | bit 6          |
//! |---|-----------------|------------------|------------------|-----------------|----------------|
//! | 1 | printer         |                  | offline          |                 |                |
//! | 2 | offline cause   | cover open       | feed button      | stopped: no paper | error        |
//! | 4 | roll paper      | near end         | near end         | paper end       | paper end      |
//!
//! Pure: the transport sends the queries and hands the bytes here.

use serde::Serialize;
use thiserror::Error;

pub const DLE_EOT: [u8; 2] = [0x10, 0x04];

/// The three queries a status check makes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusQuery {
    Printer = 1,
    OfflineCause = 2,
    RollPaper = 4,
}

impl StatusQuery {
    pub fn bytes(self) -> [u8; 3] {
        [DLE_EOT[0], DLE_EOT[1], self as u8]
    }
}

/// What the kiosk shows about the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Ready,
    /// Prints, but the roll will end soon.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (feed button held, cutter jam, error).
    Offline,
}

impl PrinterStatus {
    pub fn can_print(self) -> bool {
        matches!(self, PrinterStatus::Ready | PrinterStatus::PaperNearEnd)
    }

    pub fn code(self) -> &'static str {
        match self {
            PrinterStatus::Ready => "printer_ready",
            PrinterStatus::PaperNearEnd => "printer_paper_near_end",
            PrinterStatus::PaperOut => "printer_paper_out",
            PrinterStatus::CoverOpen => "printer_cover_open",
            PrinterStatus::Offline => "printer_offline",
        }
    }

    /// For the person at the kiosk (and staff).
    pub fn message_zh(self) -> &'static str {
        match self {
            PrinterStatus::Ready => "打印机正常",
            PrinterStatus::PaperNearEnd => "打印纸快用完了，请工作人员及时更换",
            PrinterStatus::PaperOut => "打印机缺纸，请工作人员装纸后重新打印",
            PrinterStatus::CoverOpen => "打印机盖没有关好，请工作人员关好后重新打印",
            PrinterStatus::Offline => "打印机暂时不能打印，请联系工作人员",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("printer answered {byte:#04x} to status query {query:?}, not a status byte (0xx1xx10)")]
pub struct BadStatusByte {
    pub query: StatusQuery,
    pub byte: u8,
}

fn check(query: StatusQuery, byte: u8) -> Result<u8, BadStatusByte> {
    if byte & 0b1001_0011 == 0b0001_0010 {
        Ok(byte)
    } else {
        Err(BadStatusByte { query, byte })
    }
}

fn bit(byte: u8, n: u8) -> bool {
    byte & (1 << n) != 0
}

/// The answers to the three queries (offline cause only matters when the
/// printer says it is offline, so it may be absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusBytes {
    pub printer: u8,
    pub offline_cause: Option<u8>,
    pub roll_paper: u8,
}

/// Decide the status from the answers.
pub fn decode(answers: StatusBytes) -> Result<PrinterStatus, BadStatusByte> {
    let printer = check(StatusQuery::Printer, answers.printer)?;
    let roll = check(StatusQuery::RollPaper, answers.roll_paper)?;
    let cause = answers
        .offline_cause
        .map(|byte| check(StatusQuery::OfflineCause, byte))
        .transpose()?;
    let paper_end = bit(roll, 5) || bit(roll, 6);
    let near_end = bit(roll, 2) || bit(roll, 3);
    if let Some(cause) = cause {
        if bit(cause, 2) {
            return Ok(PrinterStatus::CoverOpen);
        }
        if bit(cause, 5) || paper_end {
            return Ok(PrinterStatus::PaperOut);
        }
    }
    if paper_end {
        return Ok(PrinterStatus::PaperOut);
    }
    if bit(printer, 3) {
        return Ok(PrinterStatus::Offline);
    }
    if near_end {
        return Ok(PrinterStatus::PaperNearEnd);
    }
    Ok(PrinterStatus::Ready)
}

/// Whether the printer answer says "offline", i.e. the cause is worth asking.
pub fn says_offline(printer_byte: u8) -> bool {
    bit(printer_byte, 3)
}

/// The answers a printer in `status` gives (fake printers and tests).
pub fn answers_for(status: PrinterStatus) -> StatusBytes {
    const BASE: u8 = 0b0001_0010;
    let offline = BASE | 1 << 3;
    match status {
        PrinterStatus::Ready => StatusBytes {
            printer: BASE,
            offline_cause: None,
            roll_paper: BASE,
        },
        PrinterStatus::PaperNearEnd => StatusBytes {
            printer: BASE,
            offline_cause: None,
            roll_paper: BASE | 0b1100,
        },
        PrinterStatus::PaperOut => StatusBytes {
            printer: offline,
            offline_cause: Some(BASE | 1 << 5),
            roll_paper: BASE | 0b0110_0000,
        },
        PrinterStatus::CoverOpen => StatusBytes {
            printer: offline,
            offline_cause: Some(BASE | 1 << 2),
            roll_paper: BASE,
        },
        PrinterStatus::Offline => StatusBytes {
            printer: offline,
            offline_cause: Some(BASE | 1 << 6),
            roll_paper: BASE,
        },
    }
}

/// The byte a printer in `status` answers to `query`.
pub fn answer_for(status: PrinterStatus, query: u8) -> u8 {
    let answers = answers_for(status);
    match query {
        1 => answers.printer,
        2 => answers.offline_cause.unwrap_or(0b0001_0010),
        4 => answers.roll_paper,
        // Queries we do not model answer "all clear".
        _ => 0b0001_0010,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    const ALL: [PrinterStatus; 5] = [
        PrinterStatus::Ready,
        PrinterStatus::PaperNearEnd,
        PrinterStatus::PaperOut,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
    ];

    #[test]
    fn every_status_round_trips_through_its_answers() {
        for status in ALL {
            assert_eq!(decode(answers_for(status)), Ok(status), "{status:?}");
        }
    }

    #[test]
    fn published_example_bytes() {
        // Bytes as documented for a TM-T88 class printer.
        let table: String = [
            (0x12, None, 0x12),
            (0x1A, Some(0x16), 0x12), // offline, cover open
            (0x1A, Some(0x32), 0x72), // offline, paper end stop
            (0x12, None, 0x1E),       // near end
            (0x1A, Some(0x52), 0x12), // offline, error
            (0x12, None, 0x72),       // paper end sensed while online
        ]
        .into_iter()
        .map(|(printer, offline_cause, roll_paper)| {
            let answers = StatusBytes {
                printer,
                offline_cause,
                roll_paper,
            };
            format!("{answers:02X?} => {:?}\n", decode(answers))
        })
        .collect();
        expect![[r#"
            StatusBytes { printer: 12, offline_cause: None, roll_paper: 12 } => Ok(Ready)
            StatusBytes { printer: 1A, offline_cause: Some(16), roll_paper: 12 } => Ok(CoverOpen)
            StatusBytes { printer: 1A, offline_cause: Some(32), roll_paper: 72 } => Ok(PaperOut)
            StatusBytes { printer: 12, offline_cause: None, roll_paper: 1E } => Ok(PaperNearEnd)
            StatusBytes { printer: 1A, offline_cause: Some(52), roll_paper: 12 } => Ok(Offline)
            StatusBytes { printer: 12, offline_cause: None, roll_paper: 72 } => Ok(PaperOut)
        "#]]
        .assert_eq(&table);
    }

    #[test]
    fn bytes_outside_the_fixed_pattern_are_refused() {
        for byte in [0x00, 0xFF, 0x13, 0x92, 0x10] {
            let answers = StatusBytes {
                printer: byte,
                offline_cause: None,
                roll_paper: 0x12,
            };
            assert!(decode(answers).is_err(), "{byte:#04x}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_fail_cleanly(printer: u8, cause: Option<u8>, roll: u8) {
            let _ = decode(StatusBytes { printer, offline_cause: cause, roll_paper: roll });
        }
    }
}
