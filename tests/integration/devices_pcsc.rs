//! The PC/SC reader against pcscd with the vsmartcard virtual reader (vpcd)
//! and a card emulator owned by these tests. pcscd must be running
//! (scripts/start-services.sh): these tests fail loudly, never skip.

use crate::devices_support;

use std::time::{Duration, Instant};

use devices_support::sam::{
    card_payload, flagged_payload, today, Fault, VirtualSam, LIN_GUOHUA, WANG_XIUYING,
};
use devices_support::vpcd::{self, Behaviour, VirtualCard, READER_NAME};
use expect_test::expect;
use kiosk_core::card::{Request, Sw3Status};
use veteran_kiosk::devices::card_reader::pcsc::{list_readers, PcscReader};
use veteran_kiosk::devices::card_reader::{
    CardEvent, CardReader, ChipSerial, ReaderError, ReaderStatus,
};
use veteran_kiosk::devices::config::{ApduWrappingKind, PcscMode};

const TIMEOUT: Duration = Duration::from_millis(1500);

fn sam_reader() -> PcscReader {
    PcscReader::new(
        Some(READER_NAME.into()),
        PcscMode::Sam(ApduWrappingKind::Ff96),
        TIMEOUT,
    )
}

fn sam_card(payload: Option<Vec<u8>>) -> VirtualCard {
    let mut sam = VirtualSam::new();
    sam.card = payload;
    VirtualCard::insert(Behaviour::SamReader(sam))
}

fn wait_present(reader: &mut PcscReader, present: bool) {
    vpcd::wait_until(
        if present {
            "the card is seen"
        } else {
            "the card is gone"
        },
        || reader.card_present(Duration::from_millis(100)).unwrap() == present,
    );
}

/// Poll until the answer is not "no card" (the first poll after an insert
/// may still see pcscd's previous state).
fn poll_card(reader: &mut PcscReader) -> Result<CardEvent, ReaderError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outcome = reader.poll(today());
        if outcome != Ok(CardEvent::NoCard) || Instant::now() > deadline {
            return outcome;
        }
    }
}

fn outcome(result: Result<CardEvent, ReaderError>) -> String {
    match result {
        Ok(CardEvent::Read(card)) => {
            format!("read {} {}", card.text.name, card.text.id_number.as_str())
        }
        Ok(event) => format!("{event:?}"),
        Err(err) => err.code().to_string(),
    }
}

#[test]
fn pcscd_lists_the_virtual_reader() {
    let readers = list_readers().expect("pcscd must be running: scripts/start-services.sh");
    assert!(
        readers.iter().any(|name| name == READER_NAME),
        "pcscd does not list {READER_NAME:?} (found {readers:?}); is vsmartcard-vpcd installed?"
    );
}

#[test]
fn good_read_through_the_sam_wrapping_then_the_card_must_leave() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    assert_eq!(reader.poll(today()), Ok(CardEvent::NoCard));
    assert_eq!(reader.status(), ReaderStatus::Ready);

    let card = sam_card(Some(card_payload(LIN_GUOHUA)));
    wait_present(&mut reader, true);
    let Ok(CardEvent::Read(read)) = poll_card(&mut reader) else {
        panic!("expected a read");
    };
    assert_eq!(read.text.name, "林国华");
    assert_eq!(read.text.address, "福建省安溪县凤城镇东岳社区城东路12号");
    assert_eq!(read.photo_wlt, devices_support::sam::photo());
    // The ~1.3 KB answer came in 256-byte pieces with 61 xx chaining.
    let get_responses = card
        .state()
        .apdus
        .iter()
        .filter(|apdu| apdu[..2] == [0xFF, 0xC0])
        .count();
    assert_eq!(get_responses, 5);

    assert_eq!(outcome(reader.poll(today())), "StillPresent");
    assert_eq!(reader.status(), ReaderStatus::AwaitingRemoval);
    card.remove();
    wait_present(&mut reader, false);
    assert_eq!(outcome(reader.poll(today())), "NoCard");

    let card = sam_card(Some(card_payload(WANG_XIUYING)));
    wait_present(&mut reader, true);
    assert_eq!(
        outcome(poll_card(&mut reader)),
        "read 王秀英 350524196002020028"
    );
    let info = reader.sam_info().unwrap();
    assert_eq!(info.sam_id, "101112131415161718191A1B1C1D1E1F");
    card.remove();
}

#[test]
fn card_pulled_mid_read() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    let mut sam = VirtualSam::new();
    sam.card = Some(card_payload(LIN_GUOHUA));
    sam.fault(Request::ReadTextPhoto, Fault::PullCard);
    let card = VirtualCard::insert(Behaviour::SamReader(sam));
    wait_present(&mut reader, true);
    let err = poll_card(&mut reader).unwrap_err();
    assert_eq!(err, ReaderError::CardPulled, "{err}");
    assert!(card.is_gone());
    wait_present(&mut reader, false);
    // Put back: read normally.
    let card = sam_card(Some(card_payload(LIN_GUOHUA)));
    wait_present(&mut reader, true);
    assert_eq!(
        outcome(poll_card(&mut reader)),
        "read 林国华 350524195503150010"
    );
    card.remove();
}

#[test]
fn checksum_error_inside_the_tunnel() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    let mut sam = VirtualSam::new();
    sam.card = Some(card_payload(LIN_GUOHUA));
    sam.fault(Request::ReadTextPhoto, Fault::Corrupt);
    sam.fault(Request::ReadTextPhoto, Fault::Corrupt);
    let card = VirtualCard::insert(Behaviour::SamReader(sam));
    wait_present(&mut reader, true);
    assert_eq!(outcome(poll_card(&mut reader)), "frame_checksum");
    // One garbled answer alone is retried away.
    card.sam()
        .behaviour_sam()
        .fault(Request::ReadTextPhoto, Fault::Corrupt);
    assert_eq!(
        outcome(poll_card(&mut reader)),
        "read 林国华 350524195503150010"
    );
    card.remove();
}

#[test]
fn each_sam_failure_code() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    let card = sam_card(Some(card_payload(LIN_GUOHUA)));
    wait_present(&mut reader, true);
    let mut table = String::new();
    for status in [
        Sw3Status::CommandError,
        Sw3Status::Unauthorized,
        Sw3Status::UnrecognisedError,
        Sw3Status::CardAuthenticatingSamFailed,
        Sw3Status::SamAuthenticatingCardFailed,
        Sw3Status::InfoVerificationError,
        Sw3Status::UnknownCardType,
        Sw3Status::ReadCardFailed,
        Sw3Status::RandomNumberFailed,
        Sw3Status::SamSelfTestFailed,
        Sw3Status::SamNotAuthorised,
        Sw3Status::SelectCardFailed,
    ] {
        card.sam()
            .behaviour_sam()
            .fault(Request::ReadTextPhoto, Fault::Status(status));
        let err = poll_card(&mut reader).unwrap_err();
        assert_eq!(err, ReaderError::Sam(status));
        table += &format!("{:#04x} {}\n", status.to_byte(), err.code());
    }
    expect![[r#"
        0x21 sam_command_error
        0x23 sam_unauthorized
        0x24 sam_unrecognised_error
        0x31 sam_card_auth_failed
        0x32 sam_auth_card_failed
        0x33 sam_verification_error
        0x40 sam_unknown_card_type
        0x41 sam_read_failed
        0x47 sam_random_failed
        0x60 sam_self_test_failed
        0x66 sam_not_authorised
        0x81 sam_select_failed
    "#]]
    .assert_eq(&table);
    card.remove();
}

#[test]
fn foreigner_card_is_refused_until_lifted() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    let card = sam_card(Some(flagged_payload(LIN_GUOHUA, b'I')));
    wait_present(&mut reader, true);
    let err = poll_card(&mut reader).unwrap_err();
    assert_eq!(err.code(), "foreigner_card");
    assert_eq!(outcome(reader.poll(today())), "StillPresent");
    card.remove();
    wait_present(&mut reader, false);
    assert_eq!(outcome(reader.poll(today())), "NoCard");
}

#[test]
fn a_card_that_stops_answering_times_out() {
    let _slot = vpcd::slot();
    let mut reader = sam_reader();
    wait_present(&mut reader, false);
    let mut sam = VirtualSam::new();
    sam.card = Some(card_payload(LIN_GUOHUA));
    sam.fault(Request::ReadTextPhoto, Fault::Silent);
    let card = VirtualCard::insert(Behaviour::SamReader(sam));
    wait_present(&mut reader, true);
    let started = Instant::now();
    let err = poll_card(&mut reader).unwrap_err();
    assert_eq!(err.code(), "reader_timeout", "{err}");
    assert!(
        started.elapsed() < TIMEOUT * 3,
        "took {:?}",
        started.elapsed()
    );
    // The hung card goes away; the reader recovers.
    card.remove();
    wait_present(&mut reader, false);
    let card = sam_card(Some(card_payload(LIN_GUOHUA)));
    wait_present(&mut reader, true);
    assert_eq!(
        outcome(poll_card(&mut reader)),
        "read 林国华 350524195503150010"
    );
    card.remove();
}

#[test]
fn reader_unplugged() {
    let mut reader = PcscReader::new(Some("No Such Reader".into()), PcscMode::Auto, TIMEOUT);
    let err = reader.poll(today()).unwrap_err();
    assert_eq!(err.code(), "reader_unplugged", "{err}");
    assert!(err.is_reader_missing());
    assert_eq!(reader.status(), ReaderStatus::Unplugged);
}

#[test]
fn plain_nfc_reader_gives_the_chip_serial_only() {
    let _slot = vpcd::slot();
    for mode in [PcscMode::ChipSerialOnly, PcscMode::Auto] {
        let mut reader = PcscReader::new(Some(READER_NAME.into()), mode, TIMEOUT);
        wait_present(&mut reader, false);
        let card = VirtualCard::insert(Behaviour::Plain {
            card_serial: vec![0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0],
            uid: vec![0xAA, 0xBB, 0xCC, 0xDD],
        });
        wait_present(&mut reader, true);
        assert_eq!(
            poll_card(&mut reader),
            Ok(CardEvent::ChipOnly {
                serial: ChipSerial("123456789ABCDEF0".into())
            }),
            "{mode:?}"
        );
        assert_eq!(reader.poll(today()), Ok(CardEvent::StillPresent));
        let apdus = card.state().apdus.clone();
        assert!(apdus.contains(&vec![0x00, 0x36, 0x00, 0x00, 0x08]));
        card.remove();
        wait_present(&mut reader, false);
    }
    // SAM questions need a SAM.
    let mut reader = PcscReader::new(Some(READER_NAME.into()), PcscMode::ChipSerialOnly, TIMEOUT);
    assert_eq!(
        reader.sam_info().unwrap_err().code(),
        "reader_not_supported"
    );
}
