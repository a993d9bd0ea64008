//! The base-database look-up over mutual TLS: found, not found, malformed.

use crate::sync_support;

use chrono::Utc;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::RecordState;
use sync_support::{demo_records, World};

#[test]
fn a_known_person_is_found_and_an_unknown_one_is_not() {
    let world = World::new();
    let (mut known, _) = demo_records(1, 21).remove(0);
    known.meta.state = RecordState::Draft;
    known.signature = None;
    let id = IdNumber::parse_structure(&known.identity.id_number).unwrap();
    world
        .platform
        .state
        .db()
        .import_base(&[(id.clone(), known.clone())], Utc::now())
        .unwrap();

    let client = world.client();
    assert_eq!(client.look_up(&id).unwrap(), Some(known));
    let stranger = IdNumber::parse_structure("11010519491231002X").unwrap();
    assert_eq!(client.look_up(&stranger).unwrap(), None);
}

#[test]
fn a_malformed_id_number_is_refused_by_the_platform() {
    let world = World::new();
    let http = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(
            veteran_kiosk::sync::client::tls_config(&world.settings(&world.platform.url()))
                .unwrap(),
        )
        .build()
        .unwrap();
    let response = http
        .post(format!("{}/v1/people/lookup", world.platform.url()))
        .json(&serde_json::json!({"id_number": "123"}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["code"], "length");
}
