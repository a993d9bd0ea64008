//! A vendor WLT decoder that hangs costs a timeout, not the kiosk. A binary
//! of its own: decoder calls are serialised, and the hung one holds them up.

use std::process::Command;
use std::time::{Duration, Instant};

use veteran_kiosk::devices::config::{WltDecoderConfig, WltOutput};
use veteran_kiosk::devices::wlt::{card_portrait, CardPortrait, WltDecoder, WLT_LEN};

const HANGING_VENDOR: &str = r#"
#include <unistd.h>
int unpack(const unsigned char *wlt, unsigned char *out, int flag) {
    (void)wlt; (void)out; (void)flag;
    sleep(6);
    return 1;
}
"#;

#[test]
fn a_hanging_decoder_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("hang.c");
    let library = dir.path().join("libhang.so");
    std::fs::write(&source, HANGING_VENDOR).unwrap();
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("a C compiler (cc) is needed to build the stand-in vendor library");
    assert!(built.success());
    let decoder = WltDecoder::load(&WltDecoderConfig {
        library,
        symbol: "unpack".into(),
        output: WltOutput::Bgr,
        success_code: 1,
    })
    .unwrap();
    let started = Instant::now();
    let portrait = card_portrait(&[0u8; WLT_LEN], Some(&decoder));
    assert_eq!(
        portrait,
        CardPortrait::NotDecoded {
            note_zh: "芯片照片解码失败".into()
        }
    );
    assert_eq!(
        decoder.decode(&[0u8; WLT_LEN]).unwrap_err().code(),
        "wlt_timeout"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}
