//! `VersionFolder`: one API version's files (`vN/manifest.json`, its schemas, templates and
//! examples), read from disk or built in, and checked as a whole before anything serves it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::error::FolderError;
use crate::manifest::{CANONICAL_STATUSES, Manifest, REQUIRED_TEMPLATES};
use crate::version::ApiVersion;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// The largest file a version folder may hold (a schema, a template, an example).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The most files a version folder may hold.
pub const MAX_FILES: usize = 2_000;

/// Where a version's files came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the binary from `fixtures/bank-api/`.
    BuiltIn,
    /// Read from this folder at run time.
    Dir(PathBuf),
}

/// One API version: its manifest and every JSON file of its folder, by path relative to
/// the folder (`schemas/transfer.json`).
#[derive(Debug, Clone)]
pub struct VersionFolder {
    /// `v3`.
    pub version: ApiVersion,
    /// Built in or read from a folder.
    pub origin: Origin,
    /// The parsed `manifest.json`.
    pub manifest: Manifest,
    files: BTreeMap<String, String>,
}

/// One built-in fixture file, by its path under `fixtures/bank-api/` (`v2/manifest.json`).
pub fn fixture(path: &str) -> Option<&'static str> {
    embedded::FIXTURES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// The built-in versions, in order.
pub(crate) fn builtin_versions() -> Vec<ApiVersion> {
    let mut versions: Vec<ApiVersion> = embedded::FIXTURES
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/manifest.json"))
        .filter_map(|dir| dir.parse().ok())
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

impl VersionFolder {
    /// A built-in version (`None` if there is no such folder in `fixtures/bank-api/`).
    pub fn builtin(version: ApiVersion) -> Option<Result<Self, FolderError>> {
        let prefix = format!("{version}/");
        let files: BTreeMap<String, String> = embedded::FIXTURES
            .iter()
            .filter_map(|(p, text)| {
                p.strip_prefix(&prefix)
                    .map(|rel| (rel.to_owned(), (*text).to_owned()))
            })
            .collect();
        if !files.contains_key("manifest.json") {
            return None;
        }
        let shown = PathBuf::from(format!("built-in:{version}"));
        Some(Self::check(version, Origin::BuiltIn, &shown, files))
    }

    /// Reads the folder `dir` (named `vN`): every `.json` file under it, within
    /// [`MAX_FILES`] of [`MAX_FILE_BYTES`] each, then checks it whole (the manifest, its
    /// statuses and templates, every file it names).
    pub fn read(dir: &Path) -> Result<Self, FolderError> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version: ApiVersion = name.parse().map_err(|_| {
            FolderError::new(
                dir,
                format!("a version folder is named like `v4`, not `{name}`: rename it"),
            )
        })?;
        let mut files = BTreeMap::new();
        collect(dir, dir, &mut files)?;
        if !files.contains_key("manifest.json") {
            return Err(FolderError::new(
                dir.join("manifest.json"),
                "the folder has no manifest.json: every version folder needs one (docs/FORMAT.md, \"Bank API versions\")",
            ));
        }
        Self::check(version, Origin::Dir(dir.to_owned()), dir, files)
    }

    /// A folder from files in memory (`rel path → text`), as a recorder or an importer
    /// builds one before writing it; checked like one read from disk.
    pub fn from_files(
        version: ApiVersion,
        shown: &Path,
        files: BTreeMap<String, String>,
    ) -> Result<Self, FolderError> {
        Self::check(version, Origin::Dir(shown.to_owned()), shown, files)
    }

    /// The manifest parses (unknown fields refused), says its own version, spells every
    /// canonical status, names the `payment` and `error` templates, and every file it names
    /// is in the folder, is JSON, and (for schemas) compiles as a JSON Schema.
    fn check(
        version: ApiVersion,
        origin: Origin,
        shown: &Path,
        files: BTreeMap<String, String>,
    ) -> Result<Self, FolderError> {
        let manifest_file = shown.join("manifest.json");
        let text = files.get("manifest.json").map_or("", String::as_str);
        let mut de = serde_json::Deserializer::from_str(text);
        let manifest: Manifest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let mut err = FolderError::new(&manifest_file, plain_serde(&inner));
            if inner.is_syntax() || inner.is_eof() {
                err.position = Some((inner.line(), inner.column()));
            } else if path != "." {
                err = err.field(path);
            }
            err
        })?;
        if manifest.version != version.to_string() {
            return Err(FolderError::new(
                &manifest_file,
                format!(
                    "says `{}` but the folder is `{version}`: make them the same",
                    manifest.version
                ),
            )
            .field("version"));
        }
        for status in CANONICAL_STATUSES {
            if !manifest.statuses.contains_key(status) {
                return Err(FolderError::new(
                    &manifest_file,
                    format!(
                        "no wire spelling for the status `{status}`: add `\"{status}\": \"…\"`"
                    ),
                )
                .field("statuses"));
            }
        }
        if let Some(extra) = manifest
            .statuses
            .keys()
            .find(|k| !CANONICAL_STATUSES.contains(&k.as_str()))
        {
            return Err(FolderError::new(
                &manifest_file,
                format!(
                    "`{extra}` is not a status the bank knows; the keys are {}",
                    CANONICAL_STATUSES.join(", ")
                ),
            )
            .field(format!("statuses.{extra}")));
        }
        for required in REQUIRED_TEMPLATES {
            if !manifest.templates.contains_key(required) {
                return Err(FolderError::new(
                    &manifest_file,
                    format!("no `{required}` template: add `\"{required}\": \"templates/….json\"`"),
                )
                .field("templates"));
            }
        }
        let folder = Self {
            version,
            origin,
            manifest,
            files,
        };
        for (name, file) in &folder.manifest.templates {
            folder.json_at(shown, file, &format!("templates.{name}"))?;
        }
        let header_ok = |h: &str| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        for (j, h) in folder.manifest.required_headers.iter().enumerate() {
            if !header_ok(h) {
                return Err(FolderError::new(
                    &manifest_file,
                    format!("`{h}` is not a header name such as X-Request-Id"),
                )
                .field(format!("required_headers[{j}]")));
            }
        }
        for (i, route) in folder.manifest.routes.iter().enumerate() {
            let at = format!("routes[{i}]");
            for (j, h) in route.required_headers.iter().enumerate() {
                if !header_ok(h) {
                    return Err(FolderError::new(
                        &manifest_file,
                        format!("`{h}` is not a header name such as X-Request-Id"),
                    )
                    .field(format!("{at}.required_headers[{j}]")));
                }
            }
            if !route.path.starts_with('/') {
                return Err(FolderError::new(
                    &manifest_file,
                    format!("`{}` must start with `/`", route.path),
                )
                .field(format!("{at}.path")));
            }
            if let Some(file) = &route.request_schema {
                let schema = folder.json_at(shown, file, &format!("{at}.request_schema"))?;
                compile_schema(shown, file, &schema)?;
            }
            for (status, file) in &route.responses {
                let field = format!("{at}.responses.{status}");
                if !matches!(status.parse::<u16>(), Ok(100..=599)) {
                    return Err(FolderError::new(
                        &manifest_file,
                        format!("`{status}` is not an HTTP status code (100–599)"),
                    )
                    .field(field));
                }
                let schema = folder.json_at(shown, file, &field)?;
                compile_schema(shown, file, &schema)?;
            }
        }
        if let Some(hooks) = &folder.manifest.webhooks {
            if !hooks.registration.starts_with('/') {
                return Err(FolderError::new(
                    &manifest_file,
                    format!("`{}` must start with `/`", hooks.registration),
                )
                .field("webhooks.registration"));
            }
            let header_ok = !hooks.signature_header.is_empty()
                && hooks
                    .signature_header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !header_ok {
                return Err(FolderError::new(
                    &manifest_file,
                    format!(
                        "`{}` is not an HTTP header name such as Bank-Signature",
                        hooks.signature_header
                    ),
                )
                .field("webhooks.signature_header"));
            }
            folder.json_at(shown, &hooks.event_template, "webhooks.event_template")?;
            if let Some(file) = &hooks.event_schema {
                let schema = folder.json_at(shown, file, "webhooks.event_schema")?;
                compile_schema(shown, file, &schema)?;
            }
        }
        let request = &folder.manifest.payment_request;
        for (name, field) in [
            ("amount", &request.amount),
            ("currency", &request.currency),
            ("creditor", &request.creditor),
            ("debtor", &request.debtor),
            ("reference", &request.reference),
        ] {
            if !field.pointer.starts_with('/') {
                return Err(FolderError::new(
                    &manifest_file,
                    format!(
                        "`{}` is not a JSON pointer such as /amount/value",
                        field.pointer
                    ),
                )
                .field(format!("payment_request.{name}.pointer")));
            }
        }
        Ok(folder)
    }

    /// A file's text, by path relative to the folder.
    pub fn file(&self, rel: &str) -> Option<&str> {
        self.files.get(rel).map(String::as_str)
    }

    /// Every file, by path relative to the folder, in order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Writes every file under `dir` (created if missing), as a folder `--versions` serves
    /// and a person edits.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, text) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, text)?;
        }
        Ok(())
    }

    /// A file as JSON (the folder was checked: every file the manifest names parses).
    pub fn json(&self, rel: &str) -> Option<Value> {
        self.file(rel).and_then(|t| serde_json::from_str(t).ok())
    }

    /// Where this version came from, for a banner: `built in` or the folder.
    pub fn describe_origin(&self) -> String {
        match &self.origin {
            Origin::BuiltIn => "built in".to_owned(),
            Origin::Dir(dir) => dir.display().to_string(),
        }
    }

    fn json_at(&self, shown: &Path, rel: &str, field: &str) -> Result<Value, FolderError> {
        let manifest_file = shown.join("manifest.json");
        if !is_relative_inside(rel) {
            return Err(FolderError::new(
                &manifest_file,
                format!(
                    "`{rel}` must be a path inside the version folder, like schemas/payment.json"
                ),
            )
            .field(field));
        }
        let Some(text) = self.files.get(rel) else {
            return Err(FolderError::new(
                &manifest_file,
                format!("names `{rel}`, which is not in the folder (or is not a .json file)"),
            )
            .field(field));
        };
        serde_json::from_str(text).map_err(|e| {
            let mut err =
                FolderError::new(shown.join(rel), format!("not JSON: {}", plain_serde(&e)));
            err.position = Some((e.line(), e.column()));
            err
        })
    }
}

fn compile_schema(shown: &Path, rel: &str, schema: &Value) -> Result<(), FolderError> {
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| FolderError::new(shown.join(rel), format!("not a valid JSON Schema: {e}")))
}

/// serde_json's message without its own " at line L column C" (the position is kept apart).
fn plain_serde(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn is_relative_inside(rel: &str) -> bool {
    let path = Path::new(rel);
    !rel.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), FolderError> {
    let entries = fs::read_dir(dir)
        .map_err(|e| FolderError::new(dir, format!("cannot read the folder: {e}")))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Symlinks are not followed: a version folder is plain files a team keeps in git.
        let meta = fs::symlink_metadata(&path)
            .map_err(|e| FolderError::new(&path, format!("cannot read: {e}")))?;
        if meta.is_dir() {
            collect(root, &path, out)?;
        } else if meta.is_file() && path.extension().is_some_and(|e| e == "json") {
            if out.len() >= MAX_FILES {
                return Err(FolderError::new(
                    root,
                    format!("more than {MAX_FILES} files: is this a version folder?"),
                ));
            }
            if meta.len() > MAX_FILE_BYTES {
                return Err(FolderError::new(
                    &path,
                    format!(
                        "{} bytes: a version folder's files are at most {MAX_FILE_BYTES} bytes",
                        meta.len()
                    ),
                ));
            }
            let mut text = String::new();
            fs::File::open(&path)
                .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
                .map_err(|e| FolderError::new(&path, format!("cannot read as UTF-8 text: {e}")))?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.insert(rel, text);
        }
    }
    Ok(())
}
