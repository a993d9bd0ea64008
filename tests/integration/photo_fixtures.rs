//! The analysis on real photographs with the real model. Needs
//! scripts/fetch-models.sh to have run; fails loudly otherwise.

use crate::photo_support;

use expect_test::{expect, Expect};
use image::RgbImage;
use photo_support::*;
use veteran_kiosk::photo::standard::{MIN_HEAD_SHARE, OUTPUT_HEIGHT, OUTPUT_WIDTH};
use veteran_kiosk::photo::{
    assess_frame, assess_portrait, assess_portrait_file, decode_photo, standardize, FrameSetup,
    Issue, PortraitAnalyzer, Search, StandardizeError, Thresholds,
};

fn codes(issues: &[Issue]) -> String {
    if issues.is_empty() {
        "ok".to_owned()
    } else {
        issues.iter().map(Issue::code).collect::<Vec<_>>().join(" ")
    }
}

/// Judges finished portraits (as `check photo` does) and renders one line
/// per fixture.
fn check_portraits(analyzer: &PortraitAnalyzer, cases: &[(&str, RgbImage)], expect: Expect) {
    let mut out = String::new();
    for (name, image) in cases {
        let m = analyzer.analyze(image, Search::Thorough).expect("analyze");
        let issues = assess_portrait(&m, &Thresholds::default());
        out.push_str(&format!("{name}: {}\n", codes(&issues)));
    }
    expect.assert_eq(&out);
}

#[test]
fn finished_portraits_are_judged_as_they_are() {
    let analyzer = analyzer();
    let good = good_portrait();
    check_portraits(
        &analyzer,
        &[
            ("good", good.clone()),
            ("small head", small_head_portrait()),
            ("off centre", portrait_shifted(0.25)),
            ("blurred", image::imageops::blur(&good, 4.0)),
            ("greyscale", greyscale(&good)),
            ("too dark", darkened(&good, 0.3)),
            ("two faces", side_by_side(&good)),
            ("no face", sample("coffee.png")),
        ],
        expect![[r#"
            good: ok
            small head: face_too_small off_centre
            off centre: off_centre
            blurred: blurred
            greyscale: greyscale
            too dark: too_dark
            two faces: wrong_size multiple_faces off_centre
            no face: wrong_size no_face
        "#]],
    );
}

#[test]
fn photos_to_standardise_are_judged_on_the_crop_they_allow() {
    let analyzer = analyzer();
    let mut out = String::new();
    let astronaut = astronaut();
    let cases: Vec<(&str, RgbImage)> = vec![
        ("astronaut as is (512 px)", astronaut.clone()),
        ("astronaut 2.5x", large_astronaut()),
        ("far away in a big photo", far_astronaut()),
        ("two astronauts", side_by_side(&astronaut)),
        ("group photo", sample("faces.jpg")),
        ("cameraman (greyscale)", sample("camera.png")),
        ("coffee", sample("coffee.png")),
    ];
    for (name, image) in &cases {
        let m = analyzer.analyze(image, Search::Thorough).expect("analyze");
        let issues = assess_frame(&m, &Thresholds::default(), &FrameSetup::still());
        out.push_str(&format!(
            "{name}: {} face(s): {}\n",
            m.faces,
            codes(&issues)
        ));
    }
    expect![[r#"
        astronaut as is (512 px): 1 face(s): face_too_small
        astronaut 2.5x: 1 face(s): ok
        far away in a big photo: 1 face(s): face_too_small
        two astronauts: 2 face(s): multiple_faces face_too_small
        group photo: 3 face(s): multiple_faces face_too_small
        cameraman (greyscale): 1 face(s): greyscale face_too_small
        coffee: 0 face(s): no_face
    "#]]
    .assert_eq(&out);
}

#[test]
fn the_astronaut_face_is_found_where_it_is() {
    let analyzer = analyzer();
    let faces = analyzer
        .detect(&astronaut(), Search::Frame)
        .expect("detect");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let face = &faces[0];
    // By eye: the face spans about x 170–280, y 60–190; eyes near y 115.
    let centre = face.face_box.centre();
    assert!((200.0..250.0).contains(&centre.x), "{face:?}");
    assert!((100.0..150.0).contains(&centre.y), "{face:?}");
    assert!((80.0..150.0).contains(&face.face_box.height), "{face:?}");
    for eye in [face.landmarks.left_eye, face.landmarks.right_eye] {
        assert!((95.0..135.0).contains(&eye.y), "{face:?}");
    }
    // The model names eyes by their side in the picture.
    let eyes = (face.landmarks.left_eye, face.landmarks.right_eye);
    assert!(eyes.0.x < eyes.1.x, "{face:?}");
    let spacing = (eyes.1.x - eyes.0.x) / face.face_box.width;
    assert!((0.3..0.55).contains(&spacing), "{face:?}");
}

#[test]
fn standardise_makes_a_portrait_that_passes_its_own_check() {
    let analyzer = analyzer();
    let portrait = standardize(&analyzer, &large_astronaut(), &Thresholds::default())
        .expect("a large, good photo standardises");
    assert_eq!(
        (portrait.jpeg.width, portrait.jpeg.height),
        (OUTPUT_WIDTH, OUTPUT_HEIGHT)
    );
    assert!(portrait.jpeg.bytes.len() <= 300_000);
    let decoded = decode_photo(&portrait.jpeg.bytes).expect("decodes");
    let m = analyzer
        .analyze(&decoded, Search::Thorough)
        .expect("analyze");
    let face = m.face.clone().expect("face in the output");
    assert!(face.head_share >= MIN_HEAD_SHARE, "{face:?}");
    assert!(face.horizontal_offset.abs() <= 0.05, "{face:?}");
    assert!(assess_portrait_file(&portrait.jpeg.bytes).is_empty());
    assert!(assess_portrait(&m, &Thresholds::default()).is_empty());
}

#[test]
fn standardise_refuses_rather_than_enlarging_or_inventing() {
    let analyzer = analyzer();
    let t = Thresholds::default();
    let refused = |image: &RgbImage| match standardize(&analyzer, image, &t) {
        Err(StandardizeError::Refused(issues)) => codes(&issues),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => "standardised".to_owned(),
    };
    let big = large_astronaut();
    // Cut so the head is near the left edge: the crop would need pixels
    // that are not there.
    let edge = image::imageops::crop_imm(&big, 380, 0, 900, 1280).to_image();
    let out = format!(
        "as is: {}\nhead at the edge: {}\ngreyscale: {}\ndark: {}\nblurred: {}\ncoffee: {}\n",
        refused(&astronaut()),
        refused(&edge),
        refused(&greyscale(&big)),
        refused(&darkened(&big, 0.3)),
        refused(&image::imageops::blur(&big, 8.0)),
        refused(&sample("coffee.png")),
    );
    expect![[r#"
        as is: face_too_small
        head at the edge: off_centre
        greyscale: greyscale
        dark: too_dark
        blurred: blurred
        coffee: no_face
    "#]]
    .assert_eq(&out);
}

#[test]
fn file_level_checks_see_format_and_size() {
    let good = good_portrait();
    let padded = padded_jpeg(&good, 300_001);
    assert!(padded.len() > 300_000);
    let decoded = decode_photo(&padded).expect("padding keeps it a valid JPEG");
    assert_eq!(decoded.dimensions(), good.dimensions());
    let out = format!(
        "oversize jpeg: {}\npng: {}\nplain jpeg: {}\n",
        codes(&assess_portrait_file(&padded)),
        codes(&assess_portrait_file(&png_bytes(&good))),
        codes(&assess_portrait_file(
            &veteran_kiosk::photo::encode_jpeg(&good, 90).expect("jpeg")
        )),
    );
    expect![[r#"
        oversize jpeg: too_large_file
        png: not_jpeg
        plain jpeg: ok
    "#]]
    .assert_eq(&out);
}

/// The astronaut as a 640×480 camera frame, her photo shifted sideways by
/// `shift` pixels (the background fills in).
fn camera_frame(shift: i64) -> RgbImage {
    let scaled = image::imageops::resize(
        &astronaut(),
        480,
        480,
        image::imageops::FilterType::Triangle,
    );
    let mut frame = RgbImage::from_pixel(640, 480, image::Rgb([190, 185, 190]));
    image::imageops::replace(&mut frame, &scaled, 80 + shift, 0);
    frame
}

#[test]
fn live_frames_through_the_real_detector_coach_and_capture() {
    use std::time::Duration;
    use veteran_kiosk::photo::{Coach, CoachConfig};
    let analyzer = analyzer();
    // A 640×480 preview of a 1920×1440 camera.
    let mut coach = Coach::new(CoachConfig::new(FrameSetup::live(3.0)));
    let off = analyzer
        .analyze(&camera_frame(-150), Search::Frame)
        .expect("analyze");
    let centred = analyzer
        .analyze(&camera_frame(0), Search::Frame)
        .expect("analyze");
    let mut timeline = String::new();
    let mut shown = "";
    for frame in 0..60u64 {
        let m = if frame < 20 { &off } else { &centred };
        let step = coach.observe(m, Duration::from_millis(frame * 40));
        if step.advice.text_zh() != shown {
            shown = step.advice.text_zh();
            timeline.push_str(&format!("{}ms {shown}\n", frame * 40));
        }
        if step.capture {
            timeline.push_str(&format!("{}ms capture\n", frame * 40));
        }
    }
    expect![[r#"
        0ms 往左一点
        1120ms 请保持不动
        1800ms capture
    "#]]
    .assert_eq(&timeline);
}

#[test]
fn someone_standing_back_is_asked_to_come_closer() {
    use std::time::Duration;
    use veteran_kiosk::photo::{Coach, CoachConfig};
    let analyzer = analyzer();
    let small = image::imageops::resize(
        &astronaut(),
        240,
        240,
        image::imageops::FilterType::Triangle,
    );
    let mut frame = RgbImage::from_pixel(640, 480, image::Rgb([190, 185, 190]));
    image::imageops::replace(&mut frame, &small, 200, 120);
    let m = analyzer.analyze(&frame, Search::Frame).expect("analyze");
    assert_eq!(m.faces, 1, "{m:?}");
    let mut coach = Coach::new(CoachConfig::new(FrameSetup::live(3.0)));
    let step = coach.observe(&m, Duration::ZERO);
    assert_eq!(step.advice.text_zh(), "靠近一点");
}

#[test]
fn the_live_detector_answers_an_empty_hall_from_memory_and_still_sees_someone_far_away() {
    use veteran_kiosk::photo::LiveMemory;
    let analyzer = analyzer();
    let wall = RgbImage::from_pixel(640, 480, image::Rgb([190, 185, 190]));
    let mut memory = LiveMemory::default();
    for _ in 0..5 {
        assert!(analyzer.detect_live(&wall, &mut memory).unwrap().is_empty());
    }
    assert_eq!(
        memory.reused_frames(),
        4,
        "the same empty hall is not looked at again"
    );
    // Someone standing back, as in someone_standing_back_is_asked_to_come_closer.
    let small = image::imageops::resize(
        &astronaut(),
        240,
        240,
        image::imageops::FilterType::Triangle,
    );
    let mut far = wall.clone();
    image::imageops::replace(&mut far, &small, 200, 120);
    let faces = analyzer.detect_live(&far, &mut memory).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert_eq!(faces, analyzer.detect(&far, Search::Frame).unwrap());
    // And a face in the whole frame, as the stateless search finds it.
    let near = camera_frame(0);
    assert_eq!(
        analyzer.detect_live(&near, &mut memory).unwrap(),
        analyzer.detect(&near, Search::Frame).unwrap()
    );
    // After at most MAX_REUSE answers from memory the detector looks again.
    let mut memory = LiveMemory::default();
    for _ in 0..=LiveMemory::MAX_REUSE + 1 {
        analyzer.detect_live(&wall, &mut memory).unwrap();
    }
    assert_eq!(memory.reused_frames(), u64::from(LiveMemory::MAX_REUSE));
}
