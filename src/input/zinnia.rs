//! Handwriting through zinnia (Debian `libzinnia0`) with the Tegaki
//! simplified-Chinese model (`tegaki-zinnia-simplified-chinese`).
//!
//! Many elderly people write characters more easily than they type pinyin.
//! The person draws strokes on the pad; after every stroke the whole
//! character is classified again and the best candidates are shown. Backspace
//! takes back the last stroke; choosing a candidate commits it and clears the
//! pad.
//!
//! The library is opened at run time through its C API (`zinnia.h`), so a
//! kiosk without it still starts and offers the other input modes.

// FFI: zinnia is a C++ library opened at run time (dlopen); every call crosses into it.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::ptr::NonNull;

use libloading::Library;

use super::{Composition, EngineKind, Input, InputEngine, InputError, Key, Outcome, Stroke};

/// Where zinnia and its model are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandwritingConfig {
    /// Library file name or path given to `dlopen`.
    pub library: String,
    /// The recognition model.
    pub model: PathBuf,
    /// How many candidates to show for one character.
    pub max_candidates: usize,
}

impl Default for HandwritingConfig {
    fn default() -> Self {
        HandwritingConfig {
            library: "libzinnia.so.0".to_string(),
            model: PathBuf::from("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model"),
            max_candidates: 20,
        }
    }
}

/// The canvas size strokes are scaled to; zinnia normalises by it, so only
/// the resolution of the integer coordinates depends on it.
const CANVAS: f32 = 1000.0;

/// More strokes than any character has; bounds the work per classification.
const MAX_STROKES: usize = 64;

/// A handwriting recogniser with the strokes of the character being written.
pub struct HandwritingEngine {
    api: Api,
    recognizer: NonNull<c_void>,
    composition: Composition,
    max_candidates: usize,
    _library: Library,
}

impl std::fmt::Debug for HandwritingEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandwritingEngine")
            .field("composition", &self.composition)
            .finish()
    }
}

// SAFETY: the recogniser is owned by this engine alone and zinnia keeps no
// thread-local state, so the engine may move to another thread.
unsafe impl Send for HandwritingEngine {}

impl HandwritingEngine {
    /// Opens the library and loads the model. Fails with a clear
    /// [`InputError`] when either is missing or unreadable.
    pub fn open(config: &HandwritingConfig) -> Result<HandwritingEngine, InputError> {
        if !config.model.is_file() {
            return Err(InputError::DataMissing {
                what: "handwriting model (Debian package tegaki-zinnia-simplified-chinese)",
                path: config.model.display().to_string(),
            });
        }
        let model = CString::new(config.model.as_os_str().as_encoded_bytes()).map_err(|_| {
            InputError::Setup {
                detail: format!("model path contains a NUL byte: {}", config.model.display()),
            }
        })?;
        // SAFETY: loading zinnia runs no initialisers with side effects.
        let library =
            unsafe { Library::new(&config.library) }.map_err(|e| InputError::LibraryMissing {
                library: "zinnia",
                detail: e.to_string(),
            })?;
        // SAFETY: the symbol types are those declared in zinnia.h.
        let api = unsafe { Api::load(&library) }?;
        // SAFETY: a new recogniser is either null or ours to use and destroy.
        let recognizer =
            NonNull::new(unsafe { (api.recognizer_new)() }).ok_or_else(|| InputError::Engine {
                detail: "zinnia_recognizer_new returned null".to_string(),
            })?;
        // SAFETY: a valid recogniser and a NUL-terminated path.
        if unsafe { (api.recognizer_open)(recognizer.as_ptr(), model.as_ptr()) } == 0 {
            // SAFETY: the error string belongs to the recogniser we still hold.
            let detail = unsafe { string_from((api.recognizer_strerror)(recognizer.as_ptr())) }
                .unwrap_or_default();
            // SAFETY: destroyed exactly once, here, since we give up on it.
            unsafe { (api.recognizer_destroy)(recognizer.as_ptr()) };
            return Err(InputError::Setup {
                detail: format!(
                    "zinnia cannot open model {}: {detail}",
                    config.model.display()
                ),
            });
        }
        Ok(HandwritingEngine {
            api,
            recognizer,
            composition: Composition::default(),
            max_candidates: config.max_candidates.max(1),
            _library: library,
        })
    }

    /// Classifies the strokes on the pad; best candidates first.
    pub fn recognize(&self, strokes: &[Stroke]) -> Result<Vec<String>, InputError> {
        if strokes.is_empty() {
            return Ok(Vec::new());
        }
        let api = &self.api;
        // SAFETY: the character and the result are created and destroyed
        // here; strings are copied out before the result is destroyed.
        unsafe {
            let character =
                NonNull::new((api.character_new)()).ok_or_else(|| InputError::Engine {
                    detail: "zinnia_character_new returned null".to_string(),
                })?;
            let character = character.as_ptr();
            (api.character_set_width)(character, CANVAS as usize);
            (api.character_set_height)(character, CANVAS as usize);
            for (id, stroke) in strokes.iter().take(MAX_STROKES).enumerate() {
                for point in stroke.points() {
                    // Points are clamped to 0..=1 when made, so these fit.
                    let x = (point.x * CANVAS).round() as c_int;
                    let y = (point.y * CANVAS).round() as c_int;
                    (api.character_add)(character, id, x, y);
                }
            }
            let result =
                (api.recognizer_classify)(self.recognizer.as_ptr(), character, self.max_candidates);
            (api.character_destroy)(character);
            let Some(result) = NonNull::new(result) else {
                let detail = string_from((api.recognizer_strerror)(self.recognizer.as_ptr()))
                    .unwrap_or_default();
                return Err(InputError::Engine {
                    detail: format!("zinnia could not classify: {detail}"),
                });
            };
            let result = result.as_ptr();
            let size = (api.result_size)(result);
            let candidates = (0..size)
                .filter_map(|i| string_from((api.result_value)(result, i)))
                .filter(|value| !value.is_empty())
                .collect();
            (api.result_destroy)(result);
            Ok(candidates)
        }
    }

    fn reclassify(&mut self) -> Result<Outcome, InputError> {
        self.composition.candidates = self.recognize(&self.composition.ink)?;
        Ok(Outcome::Composing)
    }
}

impl InputEngine for HandwritingEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Handwriting
    }

    fn feed(&mut self, input: Input) -> Result<Outcome, InputError> {
        match input {
            Input::Stroke(stroke) => {
                if self.composition.ink.len() >= MAX_STROKES {
                    return Ok(Outcome::Composing);
                }
                self.composition.ink.push(stroke);
                self.reclassify()
            }
            Input::Key(Key::Backspace) if !self.composition.ink.is_empty() => {
                self.composition.ink.pop();
                self.reclassify()
            }
            Input::Key(Key::Escape) if !self.composition.ink.is_empty() => {
                self.reset();
                Ok(Outcome::Composing)
            }
            // Space or Enter while writing: take the best guess.
            Input::Key(Key::Space | Key::Enter) if !self.composition.candidates.is_empty() => {
                self.select(0)
            }
            Input::Key(Key::Char(c)) => {
                // A key typed mid-character (a digit, a comma): the best
                // guess goes first, then the key.
                let mut text = self
                    .composition
                    .candidates
                    .first()
                    .cloned()
                    .unwrap_or_default();
                self.reset();
                text.push(c);
                Ok(Outcome::Commit(text))
            }
            Input::Key(_) => Ok(Outcome::Unhandled),
        }
    }

    fn composition(&self) -> &Composition {
        &self.composition
    }

    fn select(&mut self, index: usize) -> Result<Outcome, InputError> {
        let available = self.composition.candidates.len();
        let text = self
            .composition
            .candidates
            .get(index)
            .cloned()
            .ok_or(InputError::NoSuchCandidate { index, available })?;
        self.reset();
        Ok(Outcome::Commit(text))
    }

    fn reset(&mut self) {
        self.composition = Composition::default();
    }
}

impl Drop for HandwritingEngine {
    fn drop(&mut self) {
        // SAFETY: the recogniser was created by us and is destroyed once.
        unsafe { (self.api.recognizer_destroy)(self.recognizer.as_ptr()) };
    }
}

/// A C string from zinnia as an owned String; `None` for null.
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

type Recognizer = c_void;
type Character = c_void;
type ResultSet = c_void;

/// The zinnia.h functions we call, resolved once.
struct Api {
    recognizer_new: unsafe extern "C" fn() -> *mut Recognizer,
    recognizer_destroy: unsafe extern "C" fn(*mut Recognizer),
    recognizer_open: unsafe extern "C" fn(*mut Recognizer, *const c_char) -> c_int,
    recognizer_strerror: unsafe extern "C" fn(*mut Recognizer) -> *const c_char,
    recognizer_classify:
        unsafe extern "C" fn(*mut Recognizer, *const Character, usize) -> *mut ResultSet,
    character_new: unsafe extern "C" fn() -> *mut Character,
    character_destroy: unsafe extern "C" fn(*mut Character),
    character_set_width: unsafe extern "C" fn(*mut Character, usize),
    character_set_height: unsafe extern "C" fn(*mut Character, usize),
    character_add: unsafe extern "C" fn(*mut Character, usize, c_int, c_int) -> c_int,
    result_value: unsafe extern "C" fn(*mut ResultSet, usize) -> *const c_char,
    result_size: unsafe extern "C" fn(*mut ResultSet) -> usize,
    result_destroy: unsafe extern "C" fn(*mut ResultSet),
}

impl Api {
    /// # Safety
    /// `library` is zinnia, whose symbols have the types declared here; the
    /// returned pointers are valid only while `library` stays loaded.
    unsafe fn load(library: &Library) -> Result<Api, InputError> {
        macro_rules! symbols {
            ($($field:ident = $symbol:literal),* $(,)?) => {
                Api { $($field: *library.get(concat!($symbol, "\0").as_bytes()).map_err(|e| {
                    InputError::LibraryIncompatible {
                        library: "zinnia",
                        detail: format!("{}: {e}", $symbol),
                    }
                })?,)* }
            };
        }
        Ok(symbols!(
            recognizer_new = "zinnia_recognizer_new",
            recognizer_destroy = "zinnia_recognizer_destroy",
            recognizer_open = "zinnia_recognizer_open",
            recognizer_strerror = "zinnia_recognizer_strerror",
            recognizer_classify = "zinnia_recognizer_classify",
            character_new = "zinnia_character_new",
            character_destroy = "zinnia_character_destroy",
            character_set_width = "zinnia_character_set_width",
            character_set_height = "zinnia_character_set_height",
            character_add = "zinnia_character_add",
            result_value = "zinnia_result_value",
            result_size = "zinnia_result_size",
            result_destroy = "zinnia_result_destroy",
        ))
    }
}
