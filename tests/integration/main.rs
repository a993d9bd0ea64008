//! All integration tests in one binary: each of the 40-odd test files used to
//! link its own copy of Slint, tract and the rest (about 70 MB each), which
//! filled the CI disk. One binary is linked once. Tests that need a process of
//! their own (an environment variable that affects all of it) stay outside,
//! in `tests/*.rs`.

// Tests may unwrap: a panic there is a failing test, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config_support;
mod devices_support;
mod photo_support;
mod sync_support;

mod cli_check;
mod config_bundle;
mod config_crash;
mod config_load;
mod config_platform;
mod devices_camera;
mod devices_demo_assets;
mod devices_ga467_serial;
mod devices_pcsc;
mod devices_printer;
mod devices_receipt;
mod devices_wlt;
mod devices_wlt_timeout;
mod faults_clock;
mod faults_disk_full;
mod faults_outbox_damage;
mod input_engines;
mod input_keyboard;
mod input_speech;
mod kiosk_config;
mod kiosk_product;
mod photo_cli;
mod photo_coach;
mod photo_encode;
mod photo_fixtures;
mod store_cli;
mod store_migrations;
mod store_outbox;
mod sync_faults;
mod sync_kill;
mod sync_lookup;
mod sync_tls;
mod ui_camera_shell;
mod ui_flow;
mod ui_records_shell;
mod ui_translations;
