//! The GA 467 serial reader driven over a real pseudo-terminal pair, with a
//! virtual certified reader (SAM + card slot) on the other end.

use crate::devices_support;

use std::time::{Duration, Instant};

use devices_support::sam::{card_payload, flagged_payload, today, Fault, LIN_GUOHUA, WANG_XIUYING};
use devices_support::serial_reader::VirtualSerialReader;
use expect_test::expect;
use kiosk_core::card::{Request, Sw3Status, Validity};
use veteran_kiosk::devices::card_reader::ga467_serial::Ga467SerialReader;
use veteran_kiosk::devices::card_reader::{CardEvent, CardReader, ReaderError, ReaderStatus};

const TIMEOUT: Duration = Duration::from_millis(500);

fn reader_for(virtual_reader: &VirtualSerialReader) -> Ga467SerialReader {
    Ga467SerialReader::new(&virtual_reader.path, 115_200, TIMEOUT)
}

fn outcome(reader: &mut Ga467SerialReader) -> String {
    match reader.poll(today()) {
        Ok(CardEvent::Read(card)) => {
            format!("read {} {}", card.text.name, card.text.id_number.as_str())
        }
        Ok(event) => format!("{event:?}"),
        Err(err) => err.code().to_string(),
    }
}

#[test]
fn good_read_then_the_card_must_leave_before_the_next() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    assert_eq!(reader.poll(today()), Ok(CardEvent::NoCard));

    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    let Ok(CardEvent::Read(card)) = reader.poll(today()) else {
        panic!("expected a read");
    };
    assert_eq!(card.text.name, "林国华");
    assert_eq!(card.text.id_number.as_str(), "350524195503150010");
    assert_eq!(card.text.address, "福建省安溪县凤城镇东岳社区城东路12号");
    assert_eq!(card.text.authority, "安溪县公安局");
    assert_eq!(card.text.valid_to, Validity::LongTerm);
    assert_eq!(card.photo_wlt, devices_support::sam::photo());

    // Same card still on the reader: not read again.
    assert_eq!(outcome(&mut reader), "StillPresent");
    assert_eq!(reader.status(), ReaderStatus::AwaitingRemoval);
    // Another card swapped in without lifting is not accepted either.
    virtual_reader.sam().put_card(card_payload(WANG_XIUYING));
    assert_eq!(outcome(&mut reader), "StillPresent");

    virtual_reader.sam().remove_card();
    assert_eq!(outcome(&mut reader), "NoCard");
    assert_eq!(reader.status(), ReaderStatus::Ready);
    virtual_reader.sam().put_card(card_payload(WANG_XIUYING));
    assert_eq!(outcome(&mut reader), "read 王秀英 350524196002020028");

    use Request::*;
    assert_eq!(
        virtual_reader.sam().log,
        vec![
            // no card; read; still there; status; swapped; gone; status; read
            FindCard,
            FindCard,
            SelectCard,
            ReadTextPhoto,
            FindCard,
            FindCard,
            FindCard,
            FindCard,
            FindCard,
            FindCard,
            SelectCard,
            ReadTextPhoto
        ]
    );
}

#[test]
fn card_pulled_mid_read() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    virtual_reader
        .sam()
        .fault(Request::ReadTextPhoto, Fault::PullCard);
    let err = reader.poll(today()).unwrap_err();
    assert_eq!(err, ReaderError::CardPulled);
    assert_eq!(
        err.message_zh(),
        "身份证被拿开了，请重新平放在读卡区域，听到提示前不要移动"
    );
    // Put back: read normally (a pulled card is not "awaiting removal").
    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    assert_eq!(outcome(&mut reader), "read 林国华 350524195503150010");
}

#[test]
fn checksum_errors_are_retried_once_then_reported() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    virtual_reader
        .sam()
        .fault(Request::ReadTextPhoto, Fault::Corrupt);
    assert_eq!(outcome(&mut reader), "read 林国华 350524195503150010");

    virtual_reader.sam().remove_card();
    assert_eq!(outcome(&mut reader), "NoCard");
    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    virtual_reader
        .sam()
        .fault(Request::ReadTextPhoto, Fault::Corrupt);
    virtual_reader
        .sam()
        .fault(Request::ReadTextPhoto, Fault::Corrupt);
    let err = reader.poll(today()).unwrap_err();
    assert_eq!(err.code(), "frame_checksum");
    // The SAM complaining about *our* checksum (SW3 10) is retried too.
    virtual_reader
        .sam()
        .fault(Request::FindCard, Fault::Status(Sw3Status::ChecksumError));
    assert_eq!(outcome(&mut reader), "read 林国华 350524195503150010");
}

#[test]
fn noise_on_the_line_before_a_frame_is_skipped() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
    virtual_reader
        .sam()
        .fault(Request::FindCard, Fault::NoiseFirst(40));
    virtual_reader
        .sam()
        .fault(Request::ReadTextPhoto, Fault::NoiseFirst(7));
    assert_eq!(outcome(&mut reader), "read 林国华 350524195503150010");
}

#[test]
fn each_sam_failure_code() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    let failures = [
        Sw3Status::LengthError,
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
        Sw3Status::NoContent,
        Sw3Status::Unknown(0x77),
    ];
    let mut table = String::new();
    for status in failures {
        // At the read step, with the card staying on the reader.
        virtual_reader.sam().put_card(card_payload(LIN_GUOHUA));
        virtual_reader
            .sam()
            .fault(Request::ReadTextPhoto, Fault::Status(status));
        if status == Sw3Status::LengthError {
            // SW3 11 is a transmission complaint: retried once, so twice.
            virtual_reader
                .sam()
                .fault(Request::ReadTextPhoto, Fault::Status(status));
        }
        let err = reader.poll(today()).unwrap_err();
        assert_eq!(err, ReaderError::Sam(status));
        table += &format!(
            "{:#04x} {} {}\n",
            status.to_byte(),
            err.code(),
            err.message_zh()
        );
    }
    // A SAM that is broken says so at the first question.
    virtual_reader.sam().fault(
        Request::FindCard,
        Fault::Status(Sw3Status::SamSelfTestFailed),
    );
    assert_eq!(
        reader.poll(today()).unwrap_err(),
        ReaderError::Sam(Sw3Status::SamSelfTestFailed)
    );
    expect![[r#"
        0x11 sam_length_error 读卡器出现故障，请联系工作人员
        0x21 sam_command_error 读卡器出现故障，请联系工作人员
        0x23 sam_unauthorized 读卡器出现故障，请联系工作人员
        0x24 sam_unrecognised_error 读卡器出现故障，请联系工作人员
        0x31 sam_card_auth_failed 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
        0x32 sam_auth_card_failed 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
        0x33 sam_verification_error 身份证验证没有通过，请重新放好身份证；如果仍然不行，请联系工作人员
        0x40 sam_unknown_card_type 无法识别这张卡，请放入居民身份证
        0x41 sam_read_failed 身份证读取失败，请拿起身份证后重新平放在读卡区域
        0x47 sam_random_failed 身份证读取失败，请拿起身份证后重新平放在读卡区域
        0x60 sam_self_test_failed 读卡器出现故障，请联系工作人员
        0x66 sam_not_authorised 读卡器出现故障，请联系工作人员
        0x81 sam_select_failed 身份证读取失败，请拿起身份证后重新平放在读卡区域
        0x91 sam_no_content 身份证中没有这一项内容
        0x77 sam_unknown_status 读卡器出现故障，请联系工作人员
    "#]]
    .assert_eq(&table);
}

#[test]
fn foreigner_card_and_residence_permit_are_refused_until_lifted() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    virtual_reader
        .sam()
        .put_card(flagged_payload(LIN_GUOHUA, b'I'));
    let err = reader.poll(today()).unwrap_err();
    assert_eq!(err.code(), "foreigner_card");
    assert_eq!(
        err.message_zh(),
        "外国人永久居留身份证无法在本机登记，请联系工作人员"
    );
    assert_eq!(outcome(&mut reader), "StillPresent");
    virtual_reader.sam().remove_card();
    assert_eq!(outcome(&mut reader), "NoCard");
    virtual_reader
        .sam()
        .put_card(flagged_payload(LIN_GUOHUA, b'J'));
    assert_eq!(outcome(&mut reader), "residence_permit_card");
}

#[test]
fn reader_unplugged() {
    let mut reader = Ga467SerialReader::new("/dev/ttyUSB-no-such-reader", 115_200, TIMEOUT);
    assert_eq!(outcome(&mut reader), "reader_unplugged");
    assert_eq!(reader.status(), ReaderStatus::Unplugged);

    let mut virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    assert_eq!(outcome(&mut reader), "NoCard");
    virtual_reader.unplug();
    let err = reader.poll(today()).unwrap_err();
    assert!(err.is_reader_missing(), "{err:?}");
    assert_eq!(err.message_zh(), "读卡器没有连接，请工作人员检查读卡器连线");
    assert_eq!(reader.status(), ReaderStatus::Unplugged);
}

#[test]
fn a_silent_reader_times_out_in_time() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    virtual_reader.sam().fault(Request::FindCard, Fault::Silent);
    let started = Instant::now();
    assert_eq!(reader.poll(today()), Err(ReaderError::Timeout(TIMEOUT)));
    let took = started.elapsed();
    assert!(took >= TIMEOUT && took < TIMEOUT * 2, "took {took:?}");
    // The next poll works again.
    assert_eq!(outcome(&mut reader), "NoCard");
}

#[test]
fn sam_id_and_status_for_the_staff_screen() {
    let virtual_reader = VirtualSerialReader::start();
    let mut reader = reader_for(&virtual_reader);
    let info = reader.sam_info().unwrap();
    assert_eq!(info.sam_id, "101112131415161718191A1B1C1D1E1F");
    assert!(info.healthy);
    assert_eq!(info.status, "操作成功");
}
