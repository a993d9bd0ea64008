//! The platform's HTTP bodies (crates/wire), as either side reads them:
//! each JSON body type, and what a body that parses writes back.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wire::config::{ConfigEvent, KioskConfigReport, KiosksAnswer, Published, StatusReport};
use wire::records::{
    LookUpAnswer, LookUpQuery, ReviewAnswer, ReviewItem, ReviewQuery, UploadAnswer,
};
use wire::ErrorBody;

use crate::mutate::{havoc, mutate_json, words_of, Rng};
use crate::Target;

const ID: &str = "6f1c1c9e-6a4b-4c1e-9a55-2f0d2d6f4e11";
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub struct WireBodies {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
}

impl WireBodies {
    pub(crate) fn new() -> WireBodies {
        let record = std::fs::read_to_string(super::repo_file("assets/demo/record-valid.json"))
            .unwrap_or_default();
        let status = format!(
            r#"{{"version":3,"sha256":"{SHA}","on_trial":true,"last_event":{{"event":"rolled_back","failed_version":4,"failed_sha256":"{SHA}","reason":"界面无法启动"}}}}"#
        );
        let texts = vec![
            format!(r#"{{"status":"stored","record_id":"{ID}"}}"#),
            format!(r#"{{"status":"already_stored","record_id":"{ID}"}}"#),
            format!(
                r#"{{"status":"rejected","record_id":"{ID}","reasons":[{{"code":"photo_missing","field":"documents[0].photo","message":"记录中的照片文件缺失或不符"}},{{"code":"required","message":"缺少"}}]}}"#
            ),
            format!(
                r#"{{"reviews":[{{"record_id":"{ID}","state":"received"}},{{"record_id":"{ID}","state":"rejected","reasons":[{{"code":"returned","field":"photos.portrait","message":"照片不清晰，请重新拍摄","severity":"warning"}}]}},{{"record_id":"{ID}","state":"superseded"}}]}}"#
            ),
            format!(r#"{{"record_ids":["{ID}","{ID}"]}}"#),
            r#"{"id_number":"350524195503150010"}"#.to_string(),
            format!(r#"{{"found":true,"record":{record}}}"#),
            r#"{"found":false}"#.to_string(),
            r#"{"status":"error","code":"kiosk_revoked","message":"本终端已停用"}"#.to_string(),
            status.clone(),
            format!(
                r#"{{"kiosk_id":"demo-kiosk-01","township_code":"350524100","status":{status}}}"#
            ),
            format!(r#"{{"version":3,"target":"township:350524100","sha256":"{SHA}"}}"#),
            format!(
                r#"{{"kiosks":[{{"received_at":"2026-12-01T08:00:00Z","client_cert_sha256":"{SHA}","report":{{"kiosk_id":"demo-kiosk-01","township_code":"350524100","status":{status}}}}}]}}"#
            ),
            format!(
                r#"{{"event":"refused","sha256":"{SHA}","code":"bad_signature","reason":"签名无效"}}"#
            ),
        ];
        let mut dict = Vec::new();
        for t in &texts {
            dict.extend(words_of(t));
        }
        WireBodies {
            seeds: texts.into_iter().map(String::into_bytes).collect(),
            dict,
        }
    }
}

/// A body that parses is written back and parses to the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(input: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(input) {
        let written = match serde_json::to_vec(&value) {
            Ok(w) => w,
            Err(err) => panic!("a parsed body does not serialise: {err}"),
        };
        let again: T = match serde_json::from_slice(&written) {
            Ok(v) => v,
            Err(err) => panic!(
                "a body written back does not parse: {err}: {}",
                String::from_utf8_lossy(&written)
            ),
        };
        assert_eq!(again, value);
    }
}

/// For the body types without `PartialEq`: the written form is stable.
fn stable<T: Serialize + DeserializeOwned>(input: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(input) {
        let written = serde_json::to_vec(&value).ok();
        let again = written
            .as_deref()
            .and_then(|w| serde_json::from_slice::<T>(w).ok());
        assert!(again.is_some(), "a body written back does not parse");
        assert_eq!(again.and_then(|v| serde_json::to_vec(&v).ok()), written);
    }
}

impl Target for WireBodies {
    fn name(&self) -> &'static str {
        "wire_bodies"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
        if rng.percent(60) {
            if let Ok(mut tree) = serde_json::from_slice::<serde_json::Value>(&base) {
                for _ in 0..1 + rng.below(3) {
                    mutate_json(rng, &mut tree, &self.dict);
                }
                return serde_json::to_vec(&tree).unwrap_or(base);
            }
        }
        havoc(rng, &base, &self.seeds, &self.dict, 256 * 1024)
    }

    fn run(&self, input: &[u8]) {
        round_trip::<UploadAnswer>(input);
        round_trip::<ReviewItem>(input);
        round_trip::<ErrorBody>(input);
        round_trip::<ConfigEvent>(input);
        round_trip::<StatusReport>(input);
        round_trip::<KioskConfigReport>(input);
        round_trip::<Published>(input);
        round_trip::<KiosksAnswer>(input);
        stable::<ReviewAnswer>(input);
        stable::<ReviewQuery>(input);
        stable::<LookUpQuery>(input);
        stable::<LookUpAnswer>(input);
    }
}
