//! The demo cards shipped in assets/demo/cards read through the simulated
//! reader (the same decoder as a real card), so demo mode works out of the box.

use chrono::NaiveDate;
use veteran_kiosk::devices::card_reader::simulated::SimulatedReader;
use veteran_kiosk::devices::card_reader::{CardEvent, CardReader};

#[test]
fn every_demo_card_reads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/cards");
    let mut reader = SimulatedReader::new(dir, None);
    let control = reader.control();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        control.present(Some(&name));
        match reader.poll(today) {
            Ok(CardEvent::Read(card)) => names.push(card.text.name),
            other => panic!("{name}: {other:?}"),
        }
        control.remove();
        assert_eq!(reader.poll(today), Ok(CardEvent::NoCard));
    }
    names.sort();
    assert_eq!(names, vec!["林国华", "王秀英"]);
}
