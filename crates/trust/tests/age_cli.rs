//! A sealed record opens with the standard `age` command and `tar`, with
//! no program of ours: what a person at the county does by hand
//! (docs/platform-api.md, "Opening a record by hand"). Needs `age` (Debian
//! package `age`, installed by scripts/setup.sh) and fails saying so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use trust::seal::{self, Blobs};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Sample {
    name: String,
    photo: String,
}

fn age_decrypt(identity_file: &Path, sealed: &[u8]) -> Vec<u8> {
    let mut child = Command::new("age")
        .args(["-d", "-i"])
        .arg(identity_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("the `age` command is needed (apt-get install age, or scripts/setup.sh): {e}")
        });
    let mut stdin = child.stdin.take().unwrap();
    let sealed = sealed.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &sealed));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn age_and_tar_open_a_sealed_record_into_its_json_and_photo_files() {
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let identity_file = dir.path().join("platform.agekey");
    std::fs::write(
        &identity_file,
        seal::identity_file_text(&identity, "2026-12-06T00:00:00Z"),
    )
    .unwrap();

    let mut blobs = Blobs::new();
    // A JPEG's first bytes, then incompressible-looking content.
    let jpeg: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0]
        .into_iter()
        .chain((0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    let portrait = blobs.insert(jpeg.clone());
    let other = blobs.insert(b"not a jpeg".to_vec());
    let sample = Sample {
        name: "林国华".into(),
        photo: portrait.clone(),
    };
    let sealed = seal::seal(&sample, &blobs, &identity.to_public()).unwrap();

    // age -d … | tar -x
    let archive = age_decrypt(&identity_file, &sealed);
    let out = dir.path().join("opened");
    std::fs::create_dir(&out).unwrap();
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&out)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive).unwrap();
    drop(tar.stdin.take());
    let tar = tar.wait_with_output().unwrap();
    assert!(
        tar.status.success(),
        "tar -x failed: {}",
        String::from_utf8_lossy(&tar.stderr)
    );

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("record.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "veteran-kiosk/sealed-record/2");
    assert_eq!(manifest["record"]["name"], "林国华");
    assert_eq!(
        std::fs::read(out.join(format!("photos/{portrait}.jpg"))).unwrap(),
        jpeg
    );
    assert_eq!(
        std::fs::read(out.join(format!("photos/{other}.bin"))).unwrap(),
        b"not a jpeg"
    );
    let listed: Vec<&str> = manifest["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    let mut extracted: Vec<String> = std::fs::read_dir(out.join("photos"))
        .unwrap()
        .map(|e| format!("photos/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    extracted.sort();
    assert_eq!(listed, extracted);

    // `tar -t` lists the manifest first, as a person sees it.
    let listing = Command::new("tar")
        .args(["-t", "-f"])
        .arg({
            let path = dir.path().join("record.tar");
            std::fs::write(&path, &archive).unwrap();
            path
        })
        .output()
        .unwrap();
    let names = String::from_utf8(listing.stdout).unwrap();
    assert_eq!(names.lines().next(), Some("record.json"));
    assert_eq!(names.lines().count(), 3);

    // And what age decrypted is exactly what the program opens.
    let (opened, opened_blobs): (Sample, Blobs) = seal::parse_envelope(&archive).unwrap();
    assert_eq!(opened, sample);
    assert_eq!(opened_blobs, blobs);
}

#[test]
fn a_tar_made_by_gnu_tar_from_the_extracted_files_does_not_pass_for_a_record() {
    // Only what a kiosk writes is read: tar's own archives carry other
    // headers (owners, times, folders), and a person's re-packed files are
    // not a sealed record. The reader answers with an error, not a panic.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("photos")).unwrap();
    std::fs::write(
        dir.path().join("record.json"),
        br#"{"format": "veteran-kiosk/sealed-record/2", "record": {"name": "x", "photo": ""}, "photos": []}"#,
    )
    .unwrap();
    let output = Command::new("tar")
        .args(["--format=gnu", "-c", "-C"])
        .arg(dir.path())
        .args(["record.json", "photos"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let err = seal::parse_envelope::<Sample>(&output.stdout).unwrap_err();
    assert_eq!(err.code(), "sealed_malformed", "{err}");
}

#[test]
fn age_opens_a_record_of_format_1_into_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let identity_file = dir.path().join("platform.agekey");
    std::fs::write(
        &identity_file,
        seal::identity_file_text(&identity, "2026-12-06T00:00:00Z"),
    )
    .unwrap();
    let mut blobs = Blobs::new();
    let key = blobs.insert(vec![0xff, 0xd8, 0xff, 1]);
    let sample = Sample {
        name: "林国华".into(),
        photo: key,
    };
    let plaintext = seal::envelope_plaintext_v1(&sample, &blobs).unwrap();
    let sealed = seal::encrypt(&identity.to_public(), &plaintext).unwrap();
    let opened = age_decrypt(&identity_file, &sealed);
    assert_eq!(opened, plaintext);
    let json: serde_json::Value = serde_json::from_slice(&opened).unwrap();
    assert_eq!(json["format"], "veteran-kiosk/sealed-record/1");
    assert_eq!(json["record"]["name"], "林国华");
}
