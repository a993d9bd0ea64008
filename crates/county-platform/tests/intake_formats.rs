//! The platform's intake opens every sealed format a kiosk has written:
//! format 1 (JSON with base64 photos, a plaintext written by the old code
//! and kept as a fixture, and the kept format 1 writer) and format 2 (tar
//! of `record.json` and raw photos); a format it does not know is refused
//! by name and not kept. Real TLS on loopback, the demo kiosk certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kiosk_core::record::Record;
use support::Platform;
use trust::seal::{self, Blobs};
use uuid::Uuid;
use wire::records::{ReviewState, UploadAnswer};

const V1_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sealed-record-v1.json"
);

/// PUTs `plaintext` sealed to the platform's key under `record_id`.
async fn upload(platform: &Platform, record_id: Uuid, plaintext: &[u8]) -> (u16, UploadAnswer) {
    let recipient = seal::parse_recipient(
        &std::fs::read_to_string(&platform.pki.platform_age_recipient).unwrap(),
    )
    .unwrap();
    let sealed = seal::encrypt(&recipient, plaintext).unwrap();
    let response = platform
        .kiosk_client()
        .put(format!(
            "{}/v1/records/{record_id}",
            platform.api.url().replace("127.0.0.1", "localhost")
        ))
        .body(sealed)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The record and photos the platform keeps for `record_id`, opened again.
fn stored(platform: &Platform, record_id: Uuid) -> (Record, Blobs) {
    let sealed = platform
        .api
        .state
        .db()
        .sealed(record_id)
        .unwrap()
        .expect("the record is kept");
    let identity = county_platform::load_identity(&platform.pki.platform_age_identity).unwrap();
    seal::open(&sealed, &identity).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formats_1_and_2_are_accepted_and_open_to_the_same_record() {
    let platform = Platform::start();

    // Format 1 exactly as the old kiosk code wrote it.
    let fixture = std::fs::read(V1_FIXTURE).unwrap();
    let (fixture_record, fixture_blobs): (Record, Blobs) = seal::parse_envelope(&fixture).unwrap();
    let (status, answer) = upload(&platform, fixture_record.meta.record_id, &fixture).await;
    assert_eq!(
        (status, &answer),
        (
            201,
            &UploadAnswer::Stored {
                record_id: fixture_record.meta.record_id
            }
        )
    );
    assert_eq!(
        stored(&platform, fixture_record.meta.record_id),
        (fixture_record, fixture_blobs)
    );

    // The same content in format 1 and format 2, under two ids.
    let (mut record, blobs) = support::demo_record();
    let v1_id = record.meta.record_id;
    let (status, _) = upload(
        &platform,
        v1_id,
        &seal::envelope_plaintext_v1(&record, &blobs).unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    record.meta.record_id = Uuid::new_v4();
    let v2_id = record.meta.record_id;
    let v2 = seal::envelope_plaintext(&record, &blobs).unwrap();
    assert!(v2.starts_with(b"record.json\0"));
    let (status, _) = upload(&platform, v2_id, &v2).await;
    assert_eq!(status, 201);

    let (from_v1, photos_v1) = stored(&platform, v1_id);
    let (from_v2, photos_v2) = stored(&platform, v2_id);
    assert_eq!(from_v2, record);
    assert_eq!(photos_v2, blobs);
    assert_eq!(photos_v1, blobs);
    assert_eq!(
        Record {
            meta: from_v2.meta.clone(),
            ..from_v1
        },
        from_v2
    );
    for id in [v1_id, v2_id] {
        assert_eq!(platform.poll_review(id).await, ReviewState::Received);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_format_is_refused_by_name_and_not_kept() {
    let platform = Platform::start();
    let record_id = Uuid::new_v4();
    let future = format!(
        r#"{{"format": "veteran-kiosk/sealed-record/3", "record": {{"meta": {{"record_id": "{record_id}"}}}}, "parts": []}}"#
    );
    let (status, answer) = upload(&platform, record_id, future.as_bytes()).await;
    assert_eq!(status, 422);
    let UploadAnswer::Rejected { reasons, .. } = answer else {
        panic!("{answer:?}");
    };
    assert_eq!(reasons.len(), 1);
    assert_eq!(reasons[0].code, "sealed_format");
    assert_eq!(
        reasons[0].message,
        "这份记录的格式版本比县平台程序新，平台读不了：请升级县平台程序"
    );
    assert!(platform.api.state.db().sealed(record_id).unwrap().is_none());
    assert_eq!(platform.poll_review(record_id).await, ReviewState::Unknown);
}
