//! Pinyin input through librime (Debian `librime1`) with the luna-pinyin
//! schema in its simplified-character variant (`rime-data-luna-pinyin`,
//! `luna_pinyin_simp`).
//!
//! The binding is a hand-written mirror of the `RimeApi` function table from
//! `rime_api.h`, reached through the library's single exported function
//! `rime_get_api()`. The library is opened at run time so that a kiosk without
//! it still starts and offers the other input modes.
//!
//! librime is a process-wide singleton: it is set up and deployed once, the
//! first time a [`PinyinEngine`] is opened, and every later engine gets its
//! own session on it. All calls into it are serialised by one lock.
//!
//! Deployment writes two patches into the per-kiosk user data directory
//! before compiling: one that limits the schema list to the schema we use
//! (so start-up does not build schemas nobody types with) and one that
//! switches off the user dictionary, because a shared kiosk must not learn
//! one person's name and offer it to the next.

// FFI: librime is a C library opened at run time (dlopen); every call crosses into it.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use libloading::Library;

use super::{Composition, EngineKind, Input, InputEngine, InputError, Key, Outcome};

/// Where librime and its data are, and which schema to type with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinyinConfig {
    /// Library file name or path given to `dlopen`.
    pub library: String,
    /// Read-only schema data (`/usr/share/rime-data` on Debian).
    pub shared_data_dir: PathBuf,
    /// Writable directory for the compiled schema; kept between starts so
    /// only the first start pays for compiling.
    pub user_data_dir: PathBuf,
    /// Schema id; `luna_pinyin_simp` gives simplified characters.
    pub schema: String,
    /// How many candidates to fetch for one composition (the keyboard pages
    /// through them).
    pub max_candidates: usize,
}

impl Default for PinyinConfig {
    fn default() -> Self {
        PinyinConfig {
            library: "librime.so.1".to_string(),
            shared_data_dir: PathBuf::from("/usr/share/rime-data"),
            user_data_dir: std::env::temp_dir().join("veteran-kiosk-rime"),
            schema: "luna_pinyin_simp".to_string(),
            max_candidates: 60,
        }
    }
}

impl PinyinConfig {
    /// The defaults, with the compiled data kept under the kiosk's state
    /// directory (`$STATE_DIRECTORY/rime` under systemd) so it survives
    /// restarts and only the first start compiles.
    pub fn in_state_dir(state_dir: &Path) -> PinyinConfig {
        PinyinConfig {
            user_data_dir: state_dir.join("rime"),
            ..PinyinConfig::default()
        }
    }
}

/// A pinyin input session on librime.
pub struct PinyinEngine {
    runtime: &'static Runtime,
    session: SessionId,
    composition: Composition,
    max_candidates: usize,
}

impl std::fmt::Debug for PinyinEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinyinEngine")
            .field("session", &self.session)
            .field("composition", &self.composition)
            .finish()
    }
}

impl PinyinEngine {
    /// Starts librime (once per process: loads the library, deploys the
    /// schema into the user data directory) and opens a session on it.
    ///
    /// Fails with a clear [`InputError`] when the library, the schema data or
    /// the user data directory is not usable.
    pub fn open(config: &PinyinConfig) -> Result<PinyinEngine, InputError> {
        let runtime = Runtime::get_or_start(config)?;
        let session = runtime.new_session()?;
        Ok(PinyinEngine {
            runtime,
            session,
            composition: Composition::default(),
            max_candidates: config.max_candidates.max(1),
        })
    }

    /// The librime version, for the staff device-status page.
    pub fn library_version(&self) -> Option<String> {
        let rt = self.runtime;
        let _guard = rt.lock();
        // SAFETY: get_version returns a static string or null.
        unsafe { string_from((rt.api.get_version)()) }
    }

    fn is_composing(&self) -> bool {
        let rt = self.runtime;
        let _guard = rt.lock();
        // SAFETY: a valid session id; the pointer is read before any other
        // call can edit the input.
        unsafe { string_from((rt.api.get_input)(self.session)) }.is_some_and(|s| !s.is_empty())
    }

    fn process_key(&mut self, keycode: c_int) -> Result<Option<String>, InputError> {
        {
            let rt = self.runtime;
            let _guard = rt.lock();
            // SAFETY: a valid session id and a plain keysym.
            unsafe { (rt.api.process_key)(self.session, keycode, 0) };
        }
        self.refresh()
    }

    /// Reads back what librime did: committed text (if any), preedit and
    /// candidates.
    fn refresh(&mut self) -> Result<Option<String>, InputError> {
        let rt = self.runtime;
        let _guard = rt.lock();
        let api = &rt.api;
        // SAFETY: each out-struct is zeroed with its data_size set as
        // RIME_STRUCT_INIT does, read only while valid, then freed with the
        // matching free function.
        unsafe {
            let mut commit = RimeCommit {
                data_size: struct_data_size::<RimeCommit>(),
                text: std::ptr::null_mut(),
            };
            let committed = if (api.get_commit)(self.session, &mut commit) != 0 {
                let text = string_from(commit.text);
                (api.free_commit)(&mut commit);
                text.filter(|t| !t.is_empty())
            } else {
                None
            };

            let mut context: RimeContext = std::mem::zeroed();
            context.data_size = struct_data_size::<RimeContext>();
            let preedit = if (api.get_context)(self.session, &mut context) != 0 {
                let preedit = string_from(context.composition.preedit);
                (api.free_context)(&mut context);
                preedit.unwrap_or_default()
            } else {
                String::new()
            };

            let mut candidates = Vec::new();
            let mut iterator: RimeCandidateListIterator = std::mem::zeroed();
            if (api.candidate_list_begin)(self.session, &mut iterator) != 0 {
                while candidates.len() < self.max_candidates
                    && (api.candidate_list_next)(&mut iterator) != 0
                {
                    if let Some(text) = string_from(iterator.candidate.text) {
                        candidates.push(text);
                    }
                }
                (api.candidate_list_end)(&mut iterator);
            }

            self.composition = Composition {
                preedit,
                candidates,
                ink: Vec::new(),
            };
            Ok(committed)
        }
    }

    /// Commits whatever is composed, converted as librime would on Space.
    fn commit_composition(&mut self) -> Result<String, InputError> {
        {
            let rt = self.runtime;
            let _guard = rt.lock();
            // SAFETY: a valid session id.
            unsafe { (rt.api.commit_composition)(self.session) };
        }
        Ok(self.refresh()?.unwrap_or_default())
    }
}

/// X11 keysyms librime understands for the keys we send.
mod keysym {
    pub const SPACE: i32 = 0x20;
    pub const BACKSPACE: i32 = 0xff08;
    pub const ESCAPE: i32 = 0xff1b;
}

impl InputEngine for PinyinEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Pinyin
    }

    fn feed(&mut self, input: Input) -> Result<Outcome, InputError> {
        let key = match input {
            Input::Key(key) => key,
            Input::Stroke(_) => return Ok(Outcome::Unhandled),
        };
        let composing = self.is_composing();
        let keycode = match key {
            Key::Char(c) if c.is_ascii_alphabetic() => c.to_ascii_lowercase() as i32,
            Key::Char('\'') if composing => '\'' as i32,
            // Anything else ends the composition: librime would turn digits
            // into candidate choices and punctuation into full-width marks,
            // neither of which a person pressing "1" expects.
            Key::Char(c) => {
                let mut text = if composing {
                    self.commit_composition()?
                } else {
                    String::new()
                };
                text.push(c);
                return Ok(Outcome::Commit(text));
            }
            _ if !composing => return Ok(Outcome::Unhandled),
            // librime's Return commits the raw letters; a person pressing 完成
            // after typing pinyin means the Chinese, as with Space.
            Key::Enter => return Ok(Outcome::Commit(self.commit_composition()?)),
            Key::Space => keysym::SPACE,
            Key::Backspace => keysym::BACKSPACE,
            Key::Escape => keysym::ESCAPE,
        };
        Ok(match self.process_key(keycode)? {
            Some(text) => Outcome::Commit(text),
            None => Outcome::Composing,
        })
    }

    fn composition(&self) -> &Composition {
        &self.composition
    }

    fn select(&mut self, index: usize) -> Result<Outcome, InputError> {
        let available = self.composition.candidates.len();
        if index >= available {
            return Err(InputError::NoSuchCandidate { index, available });
        }
        let selected = {
            let rt = self.runtime;
            let _guard = rt.lock();
            // SAFETY: a valid session id; the index is checked by librime too.
            unsafe { (rt.api.select_candidate)(self.session, index) }
        };
        if selected == 0 {
            return Err(InputError::Engine {
                detail: format!("librime refused candidate {index}"),
            });
        }
        Ok(match self.refresh()? {
            Some(text) => Outcome::Commit(text),
            None => Outcome::Composing,
        })
    }

    fn reset(&mut self) {
        {
            let rt = self.runtime;
            let _guard = rt.lock();
            // SAFETY: a valid session id.
            unsafe { (rt.api.clear_composition)(self.session) };
        }
        self.composition = Composition::default();
    }

    /// A fresh session: nothing of the last person's typing (not even the
    /// in-memory commit history librime keeps per session) carries over.
    fn forget(&mut self) {
        match self.runtime.new_session() {
            Ok(session) => {
                let old = std::mem::replace(&mut self.session, session);
                self.runtime.destroy_session(old);
                self.composition = Composition::default();
            }
            // Could not open a new one: at least clear the old.
            Err(_) => self.reset(),
        }
    }
}

impl Drop for PinyinEngine {
    fn drop(&mut self) {
        self.runtime.destroy_session(self.session);
    }
}

// ---------------------------------------------------------------------------
// The process-wide librime runtime.

/// The runtime once started, or the failure that happened after librime was
/// set up (which cannot be undone in this process). Failures before that
/// (library or data missing) are not kept, so a later open may try again.
static RUNTIME: Mutex<Option<Result<&'static Runtime, InputError>>> = Mutex::new(None);

enum StartFailure {
    /// Nothing was set up yet; trying again later is safe.
    BeforeSetup(InputError),
    /// librime was set up and could not deploy; it stays as it is.
    AfterSetup(InputError),
}

impl From<InputError> for StartFailure {
    fn from(err: InputError) -> Self {
        StartFailure::BeforeSetup(err)
    }
}

struct Runtime {
    api: Api,
    /// What it was started with; a second start must ask for the same.
    config: PinyinConfig,
    /// Serialises every call: librime's session API is not thread-safe.
    calls: Mutex<()>,
    _library: Library,
    // librime keeps pointers into the traits strings (glog keeps app_name),
    // so they live as long as the runtime, which is the process.
    _traits_strings: Vec<CString>,
}

// SAFETY: `api` holds plain function pointers into a library that stays
// loaded for the life of the process, and every call through them is made
// while holding `calls`.
unsafe impl Send for Runtime {}
unsafe impl Sync for Runtime {}

impl Runtime {
    fn get_or_start(config: &PinyinConfig) -> Result<&'static Runtime, InputError> {
        let mut slot = RUNTIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let runtime = match &*slot {
            Some(started) => started.clone()?,
            None => match Runtime::start(config) {
                Ok(runtime) => {
                    // Lives as long as the process, as librime does.
                    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
                    *slot = Some(Ok(runtime));
                    runtime
                }
                Err(StartFailure::BeforeSetup(err)) => return Err(err),
                Err(StartFailure::AfterSetup(err)) => {
                    *slot = Some(Err(err.clone()));
                    return Err(err);
                }
            },
        };
        let same = runtime.config.library == config.library
            && runtime.config.shared_data_dir == config.shared_data_dir
            && runtime.config.user_data_dir == config.user_data_dir
            && runtime.config.schema == config.schema;
        if !same {
            return Err(InputError::Setup {
                detail: format!(
                    "librime already runs with schema {} in {}; it can be set up only once per process",
                    runtime.config.schema,
                    runtime.config.user_data_dir.display()
                ),
            });
        }
        Ok(runtime)
    }

    fn start(config: &PinyinConfig) -> Result<Runtime, StartFailure> {
        let schema_file = config
            .shared_data_dir
            .join(format!("{}.schema.yaml", config.schema));
        if !schema_file.is_file() {
            return Err(StartFailure::BeforeSetup(InputError::DataMissing {
                what: "pinyin schema (Debian package rime-data-luna-pinyin)",
                path: schema_file.display().to_string(),
            }));
        }
        write_patches(&config.user_data_dir, &config.schema)?;

        // SAFETY: loading librime runs its static initialisers, which only
        // register its components.
        let library =
            unsafe { Library::new(&config.library) }.map_err(|e| InputError::LibraryMissing {
                library: "librime",
                detail: e.to_string(),
            })?;
        // SAFETY: the symbol's type is `RimeApi* rime_get_api(void)`.
        let raw: *const RawApi = unsafe {
            let get_api = library
                .get::<unsafe extern "C" fn() -> *const RawApi>(b"rime_get_api\0")
                .map_err(|e| InputError::LibraryIncompatible {
                    library: "librime",
                    detail: e.to_string(),
                })?;
            get_api()
        };
        // SAFETY: rime_get_api returns a pointer to a static table or null;
        // `Api::from_raw` checks its size before reading past the fields an
        // older librime has.
        let api = unsafe { Api::from_raw(raw) }?;

        let cstring = |path: &Path| {
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| InputError::Setup {
                detail: format!("path contains a NUL byte: {}", path.display()),
            })
        };
        let log_dir = config.user_data_dir.join("log");
        std::fs::create_dir_all(&log_dir).map_err(|e| InputError::Setup {
            detail: format!("cannot create {}: {e}", log_dir.display()),
        })?;
        let strings = vec![
            cstring(&config.shared_data_dir)?,
            cstring(&config.user_data_dir)?,
            cstring(&log_dir)?,
            CString::from(c"veteran-kiosk"),
            CString::from(c"rime.veteran-kiosk"),
        ];
        let mut traits = RimeTraits {
            data_size: struct_data_size::<RimeTraits>(),
            shared_data_dir: strings[0].as_ptr(),
            user_data_dir: strings[1].as_ptr(),
            distribution_name: strings[3].as_ptr(),
            distribution_code_name: strings[3].as_ptr(),
            distribution_version: c"1".as_ptr(),
            app_name: strings[4].as_ptr(),
            modules: std::ptr::null(),
            // Errors only: librime warns about every optional file it does
            // not find. Logs go to files under log_dir.
            min_log_level: 2,
            log_dir: strings[2].as_ptr(),
            prebuilt_data_dir: std::ptr::null(),
            staging_dir: std::ptr::null(),
        };
        // SAFETY: traits is initialised as RIME_STRUCT_INIT does and its
        // strings outlive the runtime. Deployment runs on librime's own
        // thread, which we join before going on.
        unsafe {
            (api.setup)(&mut traits);
            (api.initialize)(&mut traits);
            (api.start_maintenance)(1);
            (api.join_maintenance_thread)();
        }
        let built = config
            .user_data_dir
            .join("build")
            .join(format!("{}.schema.yaml", config.schema));
        if !built.is_file() {
            // librime's threads and logging hold on to the library: it must
            // not be unloaded now.
            std::mem::forget(library);
            std::mem::forget(strings);
            return Err(StartFailure::AfterSetup(InputError::Setup {
                detail: format!(
                    "deploying schema {} produced no {} (see librime logs in {})",
                    config.schema,
                    built.display(),
                    log_dir.display()
                ),
            }));
        }
        Ok(Runtime {
            api,
            config: config.clone(),
            calls: Mutex::new(()),
            _library: library,
            _traits_strings: strings,
        })
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves librime itself intact.
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_session(&self) -> Result<SessionId, InputError> {
        let schema = CString::new(self.config.schema.as_str()).map_err(|_| InputError::Setup {
            detail: "schema id contains a NUL byte".to_string(),
        })?;
        let _guard = self.lock();
        // SAFETY: plain calls with a session id librime just handed out and a
        // NUL-terminated schema id; the buffer is larger than any schema id.
        unsafe {
            let session = (self.api.create_session)();
            if session == 0 {
                return Err(InputError::Engine {
                    detail: "librime could not create a session".to_string(),
                });
            }
            (self.api.select_schema)(session, schema.as_ptr());
            let mut current = [0 as c_char; 256];
            let ok = (self.api.get_current_schema)(session, current.as_mut_ptr(), current.len());
            let current = CStr::from_ptr(current.as_ptr()).to_string_lossy();
            if ok == 0 || current != self.config.schema {
                (self.api.destroy_session)(session);
                return Err(InputError::Setup {
                    detail: format!(
                        "schema {} is not deployed (librime selected {current:?})",
                        self.config.schema
                    ),
                });
            }
            (self.api.set_option)(session, c"ascii_mode".as_ptr(), 0);
            Ok(session)
        }
    }

    fn destroy_session(&self, session: SessionId) {
        let _guard = self.lock();
        // SAFETY: destroying an unknown id is a no-op in librime.
        unsafe { (self.api.destroy_session)(session) };
    }
}

/// The patches written next to the compiled data, only when they changed:
/// librime redeploys whenever a custom file is newer than its build.
fn write_patches(user_data_dir: &Path, schema: &str) -> Result<(), InputError> {
    std::fs::create_dir_all(user_data_dir).map_err(|e| InputError::Setup {
        detail: format!("cannot create {}: {e}", user_data_dir.display()),
    })?;
    let patches = [
        (
            "default.custom.yaml".to_string(),
            format!(
                "# Written by veteran-kiosk at start-up.\npatch:\n  schema_list:\n    - schema: {schema}\n"
            ),
        ),
        (
            format!("{schema}.custom.yaml"),
            "# Written by veteran-kiosk at start-up: a shared kiosk must not learn\n\
             # one person's words and offer them to the next.\n\
             patch:\n  translator/enable_user_dict: false\n"
                .to_string(),
        ),
    ];
    for (name, content) in patches {
        let path = user_data_dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(content.as_str()) {
            continue;
        }
        std::fs::write(&path, content).map_err(|e| InputError::Setup {
            detail: format!("cannot write {}: {e}", path.display()),
        })?;
    }
    Ok(())
}

/// A C string from librime as an owned String; `None` for null.
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string valid for this call.
unsafe fn string_from(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        None
    } else {
        Some(CStr::from_ptr(ptr).to_string_lossy().into_owned())
    }
}

/// `RIME_STRUCT_INIT`: the size of the struct after its `data_size` field.
fn struct_data_size<T>() -> c_int {
    (std::mem::size_of::<T>() - std::mem::size_of::<c_int>()) as c_int
}

// ---------------------------------------------------------------------------
// Mirror of rime_api.h (librime 1.x). Only the layout matters; fields we do
// not call are kept as opaque slots so the offsets stay right.

type SessionId = usize;
type Bool = c_int;
type Slot = *const c_void;

#[repr(C)]
struct RimeTraits {
    data_size: c_int,
    shared_data_dir: *const c_char,
    user_data_dir: *const c_char,
    distribution_name: *const c_char,
    distribution_code_name: *const c_char,
    distribution_version: *const c_char,
    app_name: *const c_char,
    modules: *const *const c_char,
    min_log_level: c_int,
    log_dir: *const c_char,
    prebuilt_data_dir: *const c_char,
    staging_dir: *const c_char,
}

#[repr(C)]
struct RimeComposition {
    length: c_int,
    cursor_pos: c_int,
    sel_start: c_int,
    sel_end: c_int,
    preedit: *mut c_char,
}

#[repr(C)]
struct RimeCandidate {
    text: *mut c_char,
    comment: *mut c_char,
    reserved: *mut c_void,
}

#[repr(C)]
struct RimeMenu {
    page_size: c_int,
    page_no: c_int,
    is_last_page: Bool,
    highlighted_candidate_index: c_int,
    num_candidates: c_int,
    candidates: *mut RimeCandidate,
    select_keys: *mut c_char,
}

#[repr(C)]
struct RimeCommit {
    data_size: c_int,
    text: *mut c_char,
}

#[repr(C)]
struct RimeContext {
    data_size: c_int,
    composition: RimeComposition,
    menu: RimeMenu,
    commit_text_preview: *mut c_char,
    select_labels: *mut *mut c_char,
}

#[repr(C)]
struct RimeCandidateListIterator {
    ptr: *mut c_void,
    index: c_int,
    candidate: RimeCandidate,
}

/// `RimeApi` up to `candidate_list_end` (present since librime 1.0).
#[repr(C)]
struct RawApi {
    data_size: c_int,
    setup: Option<unsafe extern "C" fn(*mut RimeTraits)>,
    set_notification_handler: Slot,
    initialize: Option<unsafe extern "C" fn(*mut RimeTraits)>,
    finalize: Slot,
    start_maintenance: Option<unsafe extern "C" fn(Bool) -> Bool>,
    is_maintenance_mode: Slot,
    join_maintenance_thread: Option<unsafe extern "C" fn()>,
    deployer_initialize: Slot,
    prebuild: Slot,
    deploy: Slot,
    deploy_schema: Slot,
    deploy_config_file: Slot,
    sync_user_data: Slot,
    create_session: Option<unsafe extern "C" fn() -> SessionId>,
    find_session: Slot,
    destroy_session: Option<unsafe extern "C" fn(SessionId) -> Bool>,
    cleanup_stale_sessions: Slot,
    cleanup_all_sessions: Slot,
    process_key: Option<unsafe extern "C" fn(SessionId, c_int, c_int) -> Bool>,
    commit_composition: Option<unsafe extern "C" fn(SessionId) -> Bool>,
    clear_composition: Option<unsafe extern "C" fn(SessionId)>,
    get_commit: Option<unsafe extern "C" fn(SessionId, *mut RimeCommit) -> Bool>,
    free_commit: Option<unsafe extern "C" fn(*mut RimeCommit) -> Bool>,
    get_context: Option<unsafe extern "C" fn(SessionId, *mut RimeContext) -> Bool>,
    free_context: Option<unsafe extern "C" fn(*mut RimeContext) -> Bool>,
    get_status: Slot,
    free_status: Slot,
    set_option: Option<unsafe extern "C" fn(SessionId, *const c_char, Bool)>,
    get_option: Slot,
    set_property: Slot,
    get_property: Slot,
    get_schema_list: Slot,
    free_schema_list: Slot,
    get_current_schema: Option<unsafe extern "C" fn(SessionId, *mut c_char, usize) -> Bool>,
    select_schema: Option<unsafe extern "C" fn(SessionId, *const c_char) -> Bool>,
    schema_open: Slot,
    config_open: Slot,
    config_close: Slot,
    config_get_bool: Slot,
    config_get_int: Slot,
    config_get_double: Slot,
    config_get_string: Slot,
    config_get_cstring: Slot,
    config_update_signature: Slot,
    config_begin_map: Slot,
    config_next: Slot,
    config_end: Slot,
    simulate_key_sequence: Slot,
    register_module: Slot,
    find_module: Slot,
    run_task: Slot,
    get_shared_data_dir: Slot,
    get_user_data_dir: Slot,
    get_sync_dir: Slot,
    get_user_id: Slot,
    get_user_data_sync_dir: Slot,
    config_init: Slot,
    config_load_string: Slot,
    config_set_bool: Slot,
    config_set_int: Slot,
    config_set_double: Slot,
    config_set_string: Slot,
    config_get_item: Slot,
    config_set_item: Slot,
    config_clear: Slot,
    config_create_list: Slot,
    config_create_map: Slot,
    config_list_size: Slot,
    config_begin_list: Slot,
    get_input: Option<unsafe extern "C" fn(SessionId) -> *const c_char>,
    get_caret_pos: Slot,
    select_candidate: Option<unsafe extern "C" fn(SessionId, usize) -> Bool>,
    get_version: Option<unsafe extern "C" fn() -> *const c_char>,
    set_caret_pos: Slot,
    select_candidate_on_current_page: Slot,
    candidate_list_begin:
        Option<unsafe extern "C" fn(SessionId, *mut RimeCandidateListIterator) -> Bool>,
    candidate_list_next: Option<unsafe extern "C" fn(*mut RimeCandidateListIterator) -> Bool>,
    candidate_list_end: Option<unsafe extern "C" fn(*mut RimeCandidateListIterator)>,
}

/// The functions we call, checked present once at start.
struct Api {
    setup: unsafe extern "C" fn(*mut RimeTraits),
    initialize: unsafe extern "C" fn(*mut RimeTraits),
    start_maintenance: unsafe extern "C" fn(Bool) -> Bool,
    join_maintenance_thread: unsafe extern "C" fn(),
    create_session: unsafe extern "C" fn() -> SessionId,
    destroy_session: unsafe extern "C" fn(SessionId) -> Bool,
    process_key: unsafe extern "C" fn(SessionId, c_int, c_int) -> Bool,
    commit_composition: unsafe extern "C" fn(SessionId) -> Bool,
    clear_composition: unsafe extern "C" fn(SessionId),
    get_commit: unsafe extern "C" fn(SessionId, *mut RimeCommit) -> Bool,
    free_commit: unsafe extern "C" fn(*mut RimeCommit) -> Bool,
    get_context: unsafe extern "C" fn(SessionId, *mut RimeContext) -> Bool,
    free_context: unsafe extern "C" fn(*mut RimeContext) -> Bool,
    set_option: unsafe extern "C" fn(SessionId, *const c_char, Bool),
    get_current_schema: unsafe extern "C" fn(SessionId, *mut c_char, usize) -> Bool,
    select_schema: unsafe extern "C" fn(SessionId, *const c_char) -> Bool,
    get_input: unsafe extern "C" fn(SessionId) -> *const c_char,
    select_candidate: unsafe extern "C" fn(SessionId, usize) -> Bool,
    get_version: unsafe extern "C" fn() -> *const c_char,
    candidate_list_begin: unsafe extern "C" fn(SessionId, *mut RimeCandidateListIterator) -> Bool,
    candidate_list_next: unsafe extern "C" fn(*mut RimeCandidateListIterator) -> Bool,
    candidate_list_end: unsafe extern "C" fn(*mut RimeCandidateListIterator),
}

impl Api {
    /// # Safety
    /// `raw` is null or points to librime's static `RimeApi`.
    unsafe fn from_raw(raw: *const RawApi) -> Result<Api, InputError> {
        let incompatible = |detail: String| InputError::LibraryIncompatible {
            library: "librime",
            detail,
        };
        let Some(raw) = raw.as_ref() else {
            return Err(incompatible("rime_get_api() returned null".to_string()));
        };
        // The table grows at the end between versions; make sure this one
        // reaches as far as the fields we read.
        let needed = std::mem::size_of::<RawApi>() - std::mem::size_of::<c_int>();
        if usize::try_from(raw.data_size).unwrap_or(0) < needed {
            return Err(incompatible(format!(
                "RimeApi has {} bytes, we need {needed} (librime too old)",
                raw.data_size
            )));
        }
        macro_rules! required {
            ($($name:ident),* $(,)?) => {
                Api { $($name: raw.$name.ok_or_else(|| {
                    incompatible(format!("RimeApi.{} is null", stringify!($name)))
                })?,)* }
            };
        }
        Ok(required!(
            setup,
            initialize,
            start_maintenance,
            join_maintenance_thread,
            create_session,
            destroy_session,
            process_key,
            commit_composition,
            clear_composition,
            get_commit,
            free_commit,
            get_context,
            free_context,
            set_option,
            get_current_schema,
            select_schema,
            get_input,
            select_candidate,
            get_version,
            candidate_list_begin,
            candidate_list_next,
            candidate_list_end,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_written_once_and_switch_off_learning() {
        let dir = std::env::temp_dir().join(format!("vk-rime-patch-{}", std::process::id()));
        write_patches(&dir, "luna_pinyin_simp").unwrap();
        let custom = dir.join("luna_pinyin_simp.custom.yaml");
        let text = std::fs::read_to_string(&custom).unwrap();
        assert!(text.contains("translator/enable_user_dict: false"));
        let default = std::fs::read_to_string(dir.join("default.custom.yaml")).unwrap();
        assert!(default.contains("- schema: luna_pinyin_simp"));
        let before = std::fs::metadata(&custom).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_patches(&dir, "luna_pinyin_simp").unwrap();
        let after = std::fs::metadata(&custom).unwrap().modified().unwrap();
        assert_eq!(before, after, "unchanged patches are not rewritten");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Failures before librime is set up are reported clearly and not kept:
    /// a later open with a good configuration may still succeed. (No other
    /// unit test starts librime, so these cannot disturb a running one.)
    #[test]
    fn missing_library_or_schema_is_a_clear_retryable_error() {
        let dir = std::env::temp_dir().join(format!("vk-rime-missing-{}", std::process::id()));
        let cases = [
            (
                PinyinConfig {
                    shared_data_dir: dir.join("no-such-rime-data"),
                    user_data_dir: dir.join("user"),
                    ..PinyinConfig::default()
                },
                "input_data_missing",
                "rime-data-luna-pinyin",
            ),
            (
                PinyinConfig {
                    library: "librime-not-installed.so.1".to_string(),
                    user_data_dir: dir.join("user"),
                    ..PinyinConfig::default()
                },
                "input_library_missing",
                "librime",
            ),
        ];
        for (config, code, mentions) in cases {
            if code == "input_library_missing" && !config.shared_data_dir.is_dir() {
                continue; // the schema check comes first; needs rime data installed
            }
            for _attempt in 0..2 {
                let err = PinyinEngine::open(&config).unwrap_err();
                assert_eq!(err.code(), code, "{err}");
                assert!(err.to_string().contains(mentions), "{err}");
                assert!(err.message_zh().contains("其他输入方式"));
            }
        }
        assert!(
            RUNTIME.lock().unwrap().is_none(),
            "nothing was set up or kept"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn struct_sizes_match_the_c_header_on_64_bit() {
        if std::mem::size_of::<usize>() != 8 {
            return;
        }
        // sizeof values computed from rime_api.h for LP64.
        assert_eq!(std::mem::size_of::<RimeTraits>(), 96);
        assert_eq!(std::mem::size_of::<RimeContext>(), 88);
        assert_eq!(std::mem::size_of::<RimeCommit>(), 16);
        assert_eq!(std::mem::size_of::<RimeCandidateListIterator>(), 40);
        assert_eq!(std::mem::size_of::<RawApi>(), 8 + 78 * 8);
    }
}
