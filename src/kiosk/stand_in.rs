//! Settings used until configuration provides them (simulated devices,
//! a demo township and a demo staff PIN "2468").

use chrono::{Duration, NaiveDate, Utc};

use crate::ui::attract_adapter::Campaign;
use kiosk_core::card::{CardRead, CardText, Nation, Validity};
use kiosk_core::id_number::{IdNumber, Sex};
use kiosk_core::record::Township;
use kiosk_core::session::{SessionSettings, StaffSettings};
use kiosk_core::staff::{PinHash, StaffAccount};

pub fn session_settings() -> SessionSettings {
    SessionSettings {
        kiosk_id: "demo-kiosk".into(),
        township: Township {
            code: "350524100".into(),
            name: "凤城镇".into(),
        },
        idle_warning_after: Duration::seconds(120),
        idle_wipe_after_warning: Duration::seconds(30),
        done_screen_for: Duration::seconds(20),
        default_text_size: kiosk_core::session::TextSize::Normal,
        default_high_contrast: false,
        manual_capture_after: Duration::seconds(20),
    }
}

pub fn staff_settings() -> StaffSettings {
    // The demo PIN's hash, made here so the stand-in needs no file. It
    // cannot fail with this salt and default parameters; if it ever did,
    // the stand-in simply has no staff login.
    let accounts = match PinHash::derive("2468", b"demo-kiosk-salt", argon2::Params::default()) {
        Ok(pin) => vec![StaffAccount {
            staff_id: "demo-staff".into(),
            name: "演示工作人员".into(),
            pin,
        }],
        Err(err) => {
            tracing::error!("stand-in staff PIN not derived: {err}");
            Vec::new()
        }
    };
    StaffSettings {
        accounts,
        config_version: "stand-in (no configuration loaded)".into(),
        config_hash: "-".into(),
    }
}

pub fn campaign() -> Campaign {
    Campaign {
        title_zh: "退役军人和其他优抚对象信息采集".into(),
        notice_zh: "为更好地服务退役军人和其他优抚对象，县退役军人事务局开展信息采集。请带好身份证、户口本和相关证件，按屏幕提示自助登记，工作人员在旁协助。".into(),
        place_zh: "安溪县凤城镇退役军人服务站".into(),
    }
}

/// Help for a few pages, to show what the county's texts look like.
pub fn help_texts() -> crate::config::HelpTexts {
    crate::config::HelpTexts {
        insert_card: Some(
            "请将身份证平放在读卡区，听到提示音后再拿开。读不出来请找工作人员。".into(),
        ),
        portrait: Some("请摘下帽子和眼镜，正对屏幕上方的摄像头，肩膀放平。".into()),
        categories: Some("请选择符合您情况的类别，可以多选。不清楚的请问工作人员。".into()),
        needs: Some("这一页是自愿填写的，没有困难可以直接点“下一步”。".into()),
        ..Default::default()
    }
}

/// A sample card for the simulated reader (test data, not a person).
pub fn sample_card() -> Option<CardRead> {
    let today = Utc::now().date_naive();
    let first17 = *b"35052419500307001";
    let check = kiosk_core::id_number::check_digit(&first17);
    let number = format!("{}{check}", std::str::from_utf8(&first17).ok()?);
    Some(CardRead {
        text: CardText {
            name: "王建国".into(),
            sex: Sex::Male,
            nation: Nation::from_code(1)?,
            birth_date: NaiveDate::from_ymd_opt(1950, 3, 7)?,
            address: "福建省安溪县凤城镇河滨路8号".into(),
            id_number: IdNumber::parse(&number, today).ok()?,
            authority: "安溪县公安局".into(),
            valid_from: NaiveDate::from_ymd_opt(2010, 1, 1)?,
            valid_to: Validity::LongTerm,
        },
        photo_wlt: Vec::new(),
        fingerprint: None,
    })
}
