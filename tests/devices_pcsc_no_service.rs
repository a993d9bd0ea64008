//! The PC/SC reader when pcscd is not there: pointed at a socket nobody
//! listens on (pcsc-lite honours PCSCLITE_CSOCK_NAME), it reports "service
//! unavailable", which the kiosk shows, instead of failing or hanging.
//! A binary of its own, because the variable affects the whole process.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use veteran_kiosk::devices::card_reader::pcsc::PcscReader;
use veteran_kiosk::devices::card_reader::{CardReader, ReaderStatus};
use veteran_kiosk::devices::config::PcscMode;

#[test]
fn without_pcscd_the_reader_reports_the_service_missing() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: set before any PC/SC call; this binary has one test only.
    // (set_var is unsafe since edition 2024's rules: other threads may read
    // the environment; here there are none yet.)
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PCSCLITE_CSOCK_NAME", dir.path().join("no-pcscd.comm"));
    }
    let mut reader = PcscReader::new(None, PcscMode::Auto, Duration::from_millis(500));
    let started = Instant::now();
    let err = reader
        .poll(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), "reader_service_unavailable", "{err}");
    assert_eq!(err.message_zh(), "读卡服务没有运行，请联系工作人员");
    assert!(err.is_reader_missing());
    assert_eq!(reader.status(), ReaderStatus::ServiceUnavailable);
    assert!(started.elapsed() < Duration::from_secs(5));
}
