use super::*;
use crate::id_number::tests::{date, make, valid_id_string};
use crate::id_number::{IdNumber, Sex};
use expect_test::{expect, Expect};
use proptest::prelude::*;

fn today() -> NaiveDate {
    date(2024, 6, 1)
}

fn sample_text() -> CardText {
    CardText {
        name: "张三丰".to_string(),
        sex: Sex::Male,
        nation: Nation::HAN,
        birth_date: date(1949, 12, 31),
        address: "北京市东城区景山前街4号".to_string(),
        id_number: IdNumber::parse(&make("110101", "19491231", "001"), today()).unwrap(),
        authority: "北京市公安局东城分局".to_string(),
        valid_from: date(2010, 1, 1),
        valid_to: Validity::LongTerm,
    }
}

fn sample_block() -> [u8; 256] {
    sample_text().encode().unwrap()
}

/// Overwrite a field's slot with `text`, space-padded, as UCS-2LE.
fn set_field(block: &mut [u8], start: usize, end: usize, text: &str) {
    for pair in block[start..end].chunks_exact_mut(2) {
        pair.copy_from_slice(&[b' ', 0]);
    }
    let encoded: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    block[start..start + encoded.len()].copy_from_slice(&encoded);
}

fn describe(result: Result<CardRead, CardError>) -> String {
    match result {
        Ok(read) => format!(
            "ok {} {} {} {} {} | {} | {} | {} | {}-{} | photo={} fp={:?}",
            read.text.name,
            read.text.sex.as_zh(),
            read.text.nation,
            read.text.birth_date,
            read.text.id_number.masked(),
            read.text.address,
            read.text.authority,
            read.text.id_number.region_code(),
            read.text.valid_from,
            read.text.valid_to.as_zh(),
            read.photo_wlt.len(),
            read.fingerprint.as_ref().map(Vec::len),
        ),
        Err(err) => format!(
            "{} field={:?} | {} | {}",
            err.code(),
            err.field().map(CardField::as_str),
            err.message_zh(),
            err
        ),
    }
}

/// A labelled change to the sample block.
type BlockCase<'a> = (&'a str, &'a dyn Fn(&mut [u8; 256]));

/// One named mutation of the sample block per line.
fn check_blocks(cases: &[BlockCase], expect: Expect) {
    let table: String = cases
        .iter()
        .map(|(label, mutate)| {
            let mut block = sample_block();
            mutate(&mut block);
            format!(
                "{label}: {}\n",
                describe(decode_card_input(&block, today()))
            )
        })
        .collect();
    expect.assert_eq(&table);
}

#[test]
fn text_block_errors() {
    check_blocks(
        &[
            ("unchanged", &|_| {}),
            ("nul padding", &|b| {
                for byte in &mut b[6..30] {
                    *byte = 0;
                }
            }),
            ("female", &|b| {
                set_field(b, 30, 32, "2");
                set_field(b, 122, 158, &make("110101", "19491231", "002"));
            }),
            ("valid until", &|b| set_field(b, 204, 220, "20300101")),
            ("foreigner I", &|b| b[248] = b'I'),
            ("foreigner Y", &|b| b[248] = b'Y'),
            ("residence permit J", &|b| b[248] = b'J'),
            ("unknown card type", &|b| b[248] = b'Z'),
            ("flag high byte", &|b| b[249] = 1),
            ("empty name", &|b| set_field(b, 0, 30, "")),
            ("blank address", &|b| set_field(b, 52, 122, "\u{3000}")),
            ("empty authority", &|b| set_field(b, 158, 188, "")),
            ("lone surrogate", &|b| {
                b[0..2].copy_from_slice(&[0x00, 0xD8])
            }),
            ("control char", &|b| b[2..4].copy_from_slice(&[0x07, 0x00])),
            ("sex 0", &|b| set_field(b, 30, 32, "0")),
            ("sex 9", &|b| set_field(b, 30, 32, "9")),
            ("sex blank", &|b| set_field(b, 30, 32, "")),
            ("nation 57", &|b| set_field(b, 32, 36, "57")),
            ("nation 1", &|b| set_field(b, 32, 36, "1")),
            ("nation 98", &|b| set_field(b, 32, 36, "98")),
            ("birth 19490230", &|b| set_field(b, 36, 52, "19490230")),
            ("birth short", &|b| set_field(b, 36, 52, "1949123")),
            ("birth other day", &|b| set_field(b, 36, 52, "19491230")),
            ("sex disagrees", &|b| set_field(b, 30, 32, "2")),
            ("id check digit", &|b| {
                set_field(b, 122, 158, "110101194912310010")
            }),
            ("id permit", &|b| {
                set_field(b, 122, 158, &make("810000", "19491231", "001"))
            }),
            ("id future", &|b| {
                set_field(b, 36, 52, "20250101");
                set_field(b, 122, 158, &make("110101", "20250101", "001"));
            }),
            ("id empty", &|b| set_field(b, 122, 158, "")),
            ("valid from bad", &|b| set_field(b, 188, 204, "2010")),
            ("valid to bad", &|b| set_field(b, 204, 220, "长期有效")),
            ("valid to before from", &|b| {
                set_field(b, 204, 220, "20091231")
            }),
            ("valid to same day", &|b| set_field(b, 204, 220, "20100101")),
        ],
        expect![[r#"
            unchanged: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
            nul padding: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
            female: ok 张三丰 女 汉 1949-12-31 110101********0024 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
            valid until: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-2030.01.01 | photo=0 fp=None
            foreigner I: foreigner_card field=None | 外国人永久居留身份证无法在本机登记，请联系工作人员 | card is a foreigner's permanent residence card
            foreigner Y: foreigner_card field=None | 外国人永久居留身份证无法在本机登记，请联系工作人员 | card is a foreigner's permanent residence card
            residence permit J: residence_permit_card field=None | 港澳台居民居住证无法在本机登记，请联系工作人员 | card is a Hong Kong/Macao/Taiwan residence permit
            unknown card type: card_type field=None | 无法识别这张证件，请放入居民身份证 | unknown card type flag 0x005a
            flag high byte: card_type field=None | 无法识别这张证件，请放入居民身份证 | unknown card type flag 0x0120
            empty name: missing_field field=Some("name") | 身份证芯片中的姓名无法识别，请联系工作人员 | field name is empty
            blank address: missing_field field=Some("address") | 身份证芯片中的住址无法识别，请联系工作人员 | field address is empty
            empty authority: missing_field field=Some("authority") | 身份证芯片中的签发机关无法识别，请联系工作人员 | field authority is empty
            lone surrogate: text_encoding field=Some("name") | 身份证芯片中的姓名无法识别，请联系工作人员 | field name is not valid UCS-2 text
            control char: text_encoding field=Some("name") | 身份证芯片中的姓名无法识别，请联系工作人员 | field name is not valid UCS-2 text
            sex 0: sex_code field=Some("sex") | 身份证芯片中的性别无法识别，请联系工作人员 | sex code "0" is not 1 (male) or 2 (female)
            sex 9: sex_code field=Some("sex") | 身份证芯片中的性别无法识别，请联系工作人员 | sex code "9" is not 1 (male) or 2 (female)
            sex blank: sex_code field=Some("sex") | 身份证芯片中的性别无法识别，请联系工作人员 | sex code "" is not 1 (male) or 2 (female)
            nation 57: nation_code field=Some("nation") | 身份证芯片中的民族无法识别，请联系工作人员 | nation code "57" is not in GB 3304
            nation 1: nation_code field=Some("nation") | 身份证芯片中的民族无法识别，请联系工作人员 | nation code "1" is not in GB 3304
            nation 98: ok 张三丰 男 外国血统中国籍人士 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
            birth 19490230: date field=Some("birth_date") | 身份证芯片中的出生日期无法识别，请联系工作人员 | field birth_date holds "19490230", not a valid date
            birth short: date field=Some("birth_date") | 身份证芯片中的出生日期无法识别，请联系工作人员 | field birth_date holds "1949123", not a valid date
            birth other day: id_birth_mismatch field=Some("birth_date") | 身份证芯片中的出生日期与公民身份号码不一致，请联系工作人员 | birth date on the card disagrees with the ID number
            sex disagrees: id_sex_mismatch field=Some("sex") | 身份证芯片中的性别与公民身份号码不一致，请联系工作人员 | sex on the card disagrees with the ID number
            id check digit: id_number field=Some("id_number") | 身份证芯片中的公民身份号码没有通过校验，请联系工作人员 | ID number on the card is invalid: ID number check digit is 0, expected 6
            id permit: id_number field=Some("id_number") | 港澳台居民居住证无法在本机登记，请联系工作人员 | ID number on the card is invalid: ID number starts with 81: a Hong Kong/Macao/Taiwan residence permit number
            id future: id_number field=Some("id_number") | 身份证芯片中的公民身份号码没有通过校验，请联系工作人员 | ID number on the card is invalid: birth date in ID number is not acceptable: InFuture
            id empty: missing_field field=Some("id_number") | 身份证芯片中的公民身份号码无法识别，请联系工作人员 | field id_number is empty
            valid from bad: date field=Some("valid_from") | 身份证芯片中的有效期起始日期无法识别，请联系工作人员 | field valid_from holds "2010", not a valid date
            valid to bad: date field=Some("valid_to") | 身份证芯片中的有效期截止日期无法识别，请联系工作人员 | field valid_to holds "长期有效", not a valid date
            valid to before from: date field=Some("valid_to") | 身份证芯片中的有效期限有误，请联系工作人员 | validity ends (2009-12-31) before it starts (2010-01-01)
            valid to same day: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-2010.01.01 | photo=0 fp=None
        "#]],
    );
}

fn read_frame(
    text_len: u16,
    photo: &[u8],
    fingerprint: Option<&[u8]>,
    status: Sw3Status,
) -> Vec<u8> {
    let block = sample_block();
    let mut data = Vec::new();
    data.extend_from_slice(&text_len.to_be_bytes());
    data.extend_from_slice(&(photo.len() as u16).to_be_bytes());
    if let Some(fp) = fingerprint {
        data.extend_from_slice(&(fp.len() as u16).to_be_bytes());
    }
    data.extend_from_slice(&block[..usize::from(text_len).min(256)]);
    data.extend_from_slice(photo);
    if let Some(fp) = fingerprint {
        data.extend_from_slice(fp);
    }
    Response::new(status, data).unwrap().encode()
}

#[test]
fn card_input_forms() {
    let photo = vec![0x57; 1024];
    let fingerprint = vec![0x46; 1024];
    let mut bad_checksum = read_frame(256, &photo, None, Sw3Status::Success);
    *bad_checksum.last_mut().unwrap() ^= 0xFF;
    let mut noisy = vec![0x00];
    noisy.extend(read_frame(256, &photo, None, Sw3Status::Success));
    let mut payload_mismatch = Vec::new();
    payload_mismatch.extend_from_slice(&256u16.to_be_bytes());
    payload_mismatch.extend_from_slice(&1024u16.to_be_bytes());
    payload_mismatch.extend_from_slice(&sample_block());

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "30 01 frame",
            read_frame(256, &photo, None, Sw3Status::Success),
        ),
        (
            "30 10 frame",
            read_frame(256, &photo, Some(&fingerprint), Sw3Status::Success),
        ),
        (
            "30 10 frame, empty fingerprint",
            read_frame(256, &photo, Some(&[]), Sw3Status::Success),
        ),
        ("no photo", read_frame(256, &[], None, Sw3Status::Success)),
        ("bare text block", sample_block().to_vec()),
        (
            "text 255",
            read_frame(255, &photo, None, Sw3Status::Success),
        ),
        (
            "payload mismatch",
            Response::new(Sw3Status::Success, payload_mismatch)
                .unwrap()
                .encode(),
        ),
        (
            "payload 3 bytes",
            Response::new(Sw3Status::Success, vec![0, 1, 0])
                .unwrap()
                .encode(),
        ),
        (
            "find card failed",
            Response::new(Sw3Status::FindCardFailed, vec![])
                .unwrap()
                .encode(),
        ),
        (
            "read failed",
            Response::new(Sw3Status::ReadCardFailed, vec![])
                .unwrap()
                .encode(),
        ),
        (
            "SAM unauthorised",
            Response::new(Sw3Status::SamNotAuthorised, vec![])
                .unwrap()
                .encode(),
        ),
        (
            "find card answer",
            Response::new(Sw3Status::FindCardSuccess, vec![0; 8])
                .unwrap()
                .encode(),
        ),
        ("bad checksum", bad_checksum),
        ("noise before frame", noisy),
        ("truncated frame", PREAMBLE.to_vec()),
        ("empty file", vec![]),
        ("text block 255", vec![0x20; 255]),
    ];
    let table: String = cases
        .iter()
        .map(|(label, bytes)| format!("{label}: {}\n", describe(decode_card_input(bytes, today()))))
        .collect();
    expect![[r#"
        30 01 frame: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=1024 fp=None
        30 10 frame: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=1024 fp=Some(1024)
        30 10 frame, empty fingerprint: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=1024 fp=Some(0)
        no photo: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
        bare text block: ok 张三丰 男 汉 1949-12-31 110101********0016 | 北京市东城区景山前街4号 | 北京市公安局东城分局 | 110101 | 2010-01-01-长期 | photo=0 fp=None
        text 255: text_length field=None | 身份证信息读取不完整，请拿起身份证后重新平放在读卡区域 | text block is 255 bytes, expected 256
        payload mismatch: payload_length field=None | 身份证信息读取不完整，请拿起身份证后重新平放在读卡区域 | read payload of 260 bytes does not match the lengths in its header
        payload 3 bytes: payload_length field=None | 身份证信息读取不完整，请拿起身份证后重新平放在读卡区域 | read payload of 3 bytes does not match the lengths in its header
        find card failed: reader_status field=None | 没有找到身份证，请把身份证平放在读卡区域 | reader reported SW3 0x80 (no card found)
        read failed: reader_status field=None | 身份证读取失败，请拿起身份证后重新平放在读卡区域 | reader reported SW3 0x41 (reading the card failed)
        SAM unauthorised: reader_status field=None | 读卡器出现故障，请联系工作人员 | reader reported SW3 0x66 (SAM not authorised)
        find card answer: input_format field=None | 文件既不是读卡器返回的读卡数据，也不是256字节的身份证文字信息 | input is neither a GA 467 read response nor a 256-byte text block: frame is a find-card answer (SW3 0x9f (card found)), not a read
        bad checksum: frame_checksum field=None | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | bad frame: checksum byte is 0x21, computed 0xde
        noise before frame: input_format field=None | 文件既不是读卡器返回的读卡数据，也不是256字节的身份证文字信息 | input is neither a GA 467 read response nor a 256-byte text block: 1296 bytes that do not start with AA AA AA 96 69
        truncated frame: frame_length field=None | 读卡时数据传输出错，请拿起身份证后重新平放在读卡区域 | bad frame: frame of 5 bytes is too short for a header
        empty file: input_format field=None | 文件既不是读卡器返回的读卡数据，也不是256字节的身份证文字信息 | input is neither a GA 467 read response nor a 256-byte text block: 0 bytes that do not start with AA AA AA 96 69
        text block 255: input_format field=None | 文件既不是读卡器返回的读卡数据，也不是256字节的身份证文字信息 | input is neither a GA 467 read response nor a 256-byte text block: 255 bytes that do not start with AA AA AA 96 69
    "#]]
    .assert_eq(&table);
}

#[test]
fn text_length_and_field_too_long() {
    for len in [0, 1, 255, 257, 512] {
        let err = CardText::decode(&vec![0x20; len], today()).unwrap_err();
        assert_eq!(err, CardError::TextLength { found: len });
    }
    let mut text = sample_text();
    text.name = "一".repeat(15);
    assert!(text.encode().is_ok());
    text.name = "一".repeat(16);
    assert_eq!(
        text.encode().unwrap_err(),
        CardError::FieldTooLong {
            field: CardField::Name
        }
    );
    let mut text = sample_text();
    text.address = "路".repeat(36);
    let err = text.encode().unwrap_err();
    assert_eq!(err.code(), "field_too_long");
    assert_eq!(err.message_zh(), "住址太长，无法写入身份证数据");
}

#[test]
fn to_problem_sets_card_field() {
    let problem = CardError::IdSexMismatch.to_problem();
    assert_eq!(problem.code, "id_sex_mismatch");
    assert_eq!(problem.field.as_deref(), Some("card.sex"));
    let problem = CardError::ForeignerCard.to_problem();
    assert_eq!(problem.field, None);
    assert_eq!(
        problem.message,
        "外国人永久居留身份证无法在本机登记，请联系工作人员"
    );
    let err = CardError::IdNumber(crate::id_number::IdNumberError::Length { found: 3 });
    assert_eq!(err.id_number_code(), Some("length"));
    assert_eq!(CardError::IdSexMismatch.id_number_code(), None);
}

#[test]
fn additional_address() {
    let mut data = Vec::new();
    data.extend(
        "河北省石家庄市长安区"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    data.extend([0x20, 0x00].repeat(25));
    assert_eq!(
        decode_additional_address(&data).unwrap(),
        "河北省石家庄市长安区"
    );
    assert_eq!(decode_additional_address(&[]).unwrap(), "");
    assert_eq!(
        decode_additional_address(&[0x41]).unwrap_err().code(),
        "text_encoding"
    );
}

#[test]
fn validity_and_serde() {
    let text = sample_text();
    assert!(!text.is_expired_on(date(2100, 1, 1)));
    let until = Validity::Until(date(2030, 1, 1));
    assert!(!until.is_expired_on(date(2030, 1, 1)));
    assert!(until.is_expired_on(date(2030, 1, 2)));

    let json = serde_json::to_string(&text).unwrap();
    expect![[r#"{"name":"张三丰","sex":"male","nation":"01","birth_date":"1949-12-31","address":"北京市东城区景山前街4号","id_number":"110101194912310016","authority":"北京市公安局东城分局","valid_from":"2010-01-01","valid_to":"long_term"}"#]]
        .assert_eq(&json);
    assert_eq!(serde_json::from_str::<CardText>(&json).unwrap(), text);
    // Deserialising re-runs the cross-checks.
    let wrong_sex = json.replace("\"male\"", "\"female\"");
    let err = serde_json::from_str::<CardText>(&wrong_sex).unwrap_err();
    assert!(err.to_string().contains("sex"), "{err}");
    let until_json = serde_json::to_string(&until).unwrap();
    assert_eq!(until_json, "\"2030-01-01\"");
    assert_eq!(
        serde_json::from_str::<Validity>(&until_json).unwrap(),
        until
    );
    assert!(serde_json::from_str::<Validity>("\"长期\"").is_err());
}

#[test]
fn emulator_encoding_round_trips() {
    let read = CardRead {
        text: sample_text(),
        photo_wlt: vec![1; 1024],
        fingerprint: Some(vec![2; 1024]),
    };
    let frame = read.encode_response().unwrap();
    assert_eq!(decode_card_input(&frame, today()).unwrap(), read);
    let without = CardRead {
        fingerprint: None,
        ..read
    };
    let frame = without.encode_response().unwrap();
    assert_eq!(frame.len(), 7 + 3 + 4 + 256 + 1024 + 1);
    assert_eq!(decode_card_input(&frame, today()).unwrap(), without);
}

prop_compose! {
    fn cjk_text(max: usize)(chars in proptest::collection::vec(
        prop_oneof![
            8 => (0x4E00u32..=0x9FA5).prop_map(|c| char::from_u32(c).unwrap()),
            1 => proptest::sample::select(vec!['·', '0', '7', 'A', '（', '）', '-', '\u{E000}']),
        ],
        1..=max,
    )) -> String {
        chars.into_iter().collect()
    }
}

prop_compose! {
    fn valid_card_text()(
        id in valid_id_string(),
        name in cjk_text(15),
        address in cjk_text(35),
        authority in cjk_text(15),
        nation in proptest::sample::select(Nation::all().collect::<Vec<_>>()),
        from_days in 0i64..12_000,
        length in proptest::option::of(0i64..8000),
    ) -> CardText {
        let id_number = IdNumber::parse_structure(&id).unwrap();
        let valid_from = date(2000, 1, 1) + chrono::Duration::days(from_days);
        CardText {
            name,
            sex: id_number.sex(),
            nation,
            birth_date: id_number.birth_date(),
            address,
            id_number,
            authority,
            valid_from,
            valid_to: match length {
                Some(days) => Validity::Until(valid_from + chrono::Duration::days(days)),
                None => Validity::LongTerm,
            },
        }
    }
}

fn far_future() -> NaiveDate {
    date(2100, 1, 1)
}

proptest! {
    #[test]
    fn card_text_round_trip(text in valid_card_text()) {
        let block = text.encode().unwrap();
        prop_assert_eq!(CardText::decode(&block, far_future()).unwrap(), text);
    }

    #[test]
    fn card_read_round_trip(
        text in valid_card_text(),
        photo in proptest::collection::vec(any::<u8>(), 0..1100),
        fingerprint in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..1100)),
    ) {
        let read = CardRead { text, photo_wlt: photo, fingerprint };
        let frame = read.encode_response().unwrap();
        prop_assert_eq!(decode_card_input(&frame, far_future()).unwrap(), read);
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = CardText::decode(&bytes, today());
        let _ = decode_card_input(&bytes, today());
        let _ = split_read_payload(&bytes);
        let _ = decode_additional_address(&bytes);
    }

    #[test]
    fn text_decode_never_panics_on_any_256_bytes(bytes in proptest::collection::vec(any::<u8>(), 256)) {
        let _ = CardText::decode(&bytes, today());
    }

    #[test]
    fn mutated_blocks_never_panic(
        text in valid_card_text(),
        edits in proptest::collection::vec((0usize..256, any::<u8>()), 1..8),
    ) {
        let mut block = text.encode().unwrap();
        for (at, byte) in edits {
            block[at] = byte;
        }
        let _ = CardText::decode(&block, far_future());
    }

    #[test]
    fn framed_garbage_never_panics(
        status in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..1500),
    ) {
        let frame = Response::new(Sw3Status::from_byte(status), data).unwrap().encode();
        let _ = decode_card_input(&frame, today());
    }

    #[test]
    fn payload_with_lying_lengths_never_panics(
        lengths in proptest::collection::vec(any::<u16>(), 3),
        tail in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        let mut data: Vec<u8> = lengths.iter().flat_map(|len| len.to_be_bytes()).collect();
        data.extend(tail);
        let _ = split_read_payload(&data);
        let _ = CardRead::from_payload(&data, today());
    }
}
