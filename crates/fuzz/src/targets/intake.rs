//! Sealed records at the platform's intake: the `age` envelope opened with
//! the platform's identity, the JSON record and its photos parsed, and the
//! core's validation, as `http::open_and_check` does for each upload.
//!
//! An input is a mode byte and a plaintext envelope. Mode 0 seals the
//! plaintext as a kiosk would and opens it, so every mutation of the
//! record reaches the JSON parse and the validation. Mode 1 seals it and
//! then damages the sealed bytes (a mutation seeded by the next eight
//! bytes), so the age header, stanzas, MAC and payload are fuzzed too.

use chrono::Utc;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{self, Record};
use trust::seal::{self, Blobs};
use wire::sealed::photo_refs;

use super::{repo_file, today};
use crate::mutate::{havoc, mutate_json, words_of, Rng};
use crate::Target;

pub struct Intake {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
}

fn envelope(record: &Record, blobs: &Blobs) -> Vec<u8> {
    seal::envelope_plaintext(record, blobs).unwrap_or_default()
}

impl Intake {
    pub(crate) fn new() -> Intake {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let text =
            std::fs::read_to_string(repo_file("assets/demo/record-valid.json")).unwrap_or_default();
        let mut seeds = Vec::new();
        if let Ok(mut record) = serde_json::from_str::<Record>(&text) {
            let mut blobs = Blobs::new();
            // Small stand-ins for the photos: intake checks their hash and
            // length, not their pixels.
            let portrait = b"\xFF\xD8\xFF\xE0portrait\xFF\xD9".to_vec();
            let len = portrait.len() as u64;
            let sha256 = blobs.insert(portrait);
            record.photos.portrait = Some(record::PhotoRef { sha256, bytes: len });
            for (i, doc) in record.documents.iter_mut().enumerate() {
                let page = format!("\u{FF}\u{D8}document page {i}").into_bytes();
                let len = page.len() as u64;
                doc.photo = record::PhotoRef {
                    sha256: blobs.insert(page),
                    bytes: len,
                };
            }
            seeds.push([&[0u8][..], &envelope(&record, &blobs)].concat());
            let empty = Blobs::new();
            seeds.push([&[0u8][..], &envelope(&record, &empty)].concat());
            seeds.push(
                [
                    &[1u8, 0, 0, 0, 0, 0, 0, 0, 1][..],
                    &envelope(&record, &blobs),
                ]
                .concat(),
            );
        }
        let dict = words_of(&text);
        Intake {
            seeds,
            dict,
            identity,
            recipient,
        }
    }

    /// What the platform does with one upload's body.
    fn intake(&self, sealed: &[u8]) {
        let (record, blobs): (Record, Blobs) = match seal::open(sealed, &self.identity) {
            Ok(opened) => opened,
            Err(err) => {
                let _ = (err.code(), err.message_zh());
                return;
            }
        };
        let problems = record::problems(&record, Utc::now().date_naive());
        for problem in &problems {
            let _ = (
                problem.field.as_ref().map(ToString::to_string),
                &problem.message,
            );
        }
        for (_, photo) in photo_refs(&record) {
            let _ = blobs.get(&photo.sha256).map(|b| b.len() as u64) == Some(photo.bytes);
        }
        let _ = IdNumber::parse_structure(record.identity.id_number.trim());
        let valid = record::validate(&record, today());
        // The JSON schema travels sealed: what was read is written back the same.
        if let Ok(json) = serde_json::to_vec(&record) {
            let again: Result<Record, _> = serde_json::from_slice(&json);
            assert!(
                again.is_ok(),
                "a record that parsed does not parse after writing it back"
            );
            if let Ok(again) = again {
                assert_eq!(serde_json::to_vec(&again).ok(), Some(json));
            }
        }
        let _ = valid.is_ok();
    }
}

impl Target for Intake {
    fn name(&self) -> &'static str {
        "intake"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
        let (head, plaintext) = if base.first() == Some(&1) {
            base.split_at(9.min(base.len()))
        } else {
            base.split_at(1.min(base.len()))
        };
        let mut head = head.to_vec();
        if head.first() == Some(&1) {
            let mutation_seed = rng.next_u64().to_le_bytes();
            head = [&[1u8][..], &mutation_seed].concat();
        }
        let plaintext = if rng.percent(75) {
            match serde_json::from_slice::<serde_json::Value>(plaintext) {
                Ok(mut tree) => {
                    for _ in 0..1 + rng.below(3) {
                        mutate_json(rng, &mut tree, &self.dict);
                    }
                    serde_json::to_vec(&tree).unwrap_or_default()
                }
                Err(_) => plaintext.to_vec(),
            }
        } else {
            havoc(rng, plaintext, &[], &self.dict, 512 * 1024)
        };
        [head, plaintext].concat()
    }

    fn run(&self, input: &[u8]) {
        match input.split_first() {
            Some((1, rest)) if rest.len() >= 8 => {
                let (seed, plaintext) = rest.split_at(8);
                let Ok(sealed) = seal::encrypt(&self.recipient, plaintext) else {
                    return;
                };
                let mut seed_bytes = [0u8; 8];
                seed_bytes.copy_from_slice(seed);
                let mut rng = Rng::new(u64::from_le_bytes(seed_bytes));
                let damaged = havoc(
                    &mut rng,
                    &sealed,
                    &[],
                    &[b"-> X25519 ".to_vec(), b"\n--- ".to_vec()],
                    sealed.len() * 2 + 64,
                );
                self.intake(&damaged);
            }
            Some((_, plaintext)) => {
                if let Ok(sealed) = seal::encrypt(&self.recipient, plaintext) {
                    self.intake(&sealed);
                }
                // The envelope alone, as the kiosk's outbox reads drafts back.
                let _ = seal::parse_envelope::<Record>(plaintext);
            }
            None => self.intake(input),
        }
    }
}
