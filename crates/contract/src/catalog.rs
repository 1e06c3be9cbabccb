//! `Catalog`: the versions a bank mock can serve, the built-in ones and a team's own.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::error::FolderError;
use crate::folder::{VersionFolder, builtin_versions};
use crate::version::ApiVersion;

/// Version folders by version. A folder read from disk replaces the built-in version of
/// the same name, so a team can serve its own (or a deliberately drifted) `v2`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    folders: BTreeMap<ApiVersion, Arc<VersionFolder>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in versions (`fixtures/bank-api/`, compiled in).
    ///
    /// # Panics
    /// Never for a release: the built-in folders are checked by this crate's tests.
    pub fn builtin() -> Self {
        let mut catalog = Self::default();
        for version in builtin_versions() {
            match VersionFolder::builtin(version) {
                Some(Ok(folder)) => {
                    catalog.folders.insert(version, Arc::new(folder));
                }
                Some(Err(e)) => panic!("built-in bank API {version} is broken: {e}"),
                None => {}
            }
        }
        catalog
    }

    /// Adds every version folder of `dir`: either `dir` is one (`…/v4`, with a
    /// `manifest.json`) or it holds them (`bank-api/` with `v4/`, `v5/`). Other entries of
    /// `dir` are ignored; a `vN` folder that is not valid is an error naming its file.
    pub fn with_dir(mut self, dir: &Path) -> Result<Self, FolderError> {
        for folder in read_dir(dir)? {
            self.folders.insert(folder.version, Arc::new(folder));
        }
        Ok(self)
    }

    /// Adds one folder (replacing a version of the same name).
    pub fn with_folder(mut self, folder: VersionFolder) -> Self {
        self.folders.insert(folder.version, Arc::new(folder));
        self
    }

    /// One version.
    pub fn get(&self, version: ApiVersion) -> Option<&Arc<VersionFolder>> {
        self.folders.get(&version)
    }

    /// One version, or an error listing the versions there are.
    pub fn require(&self, version: ApiVersion) -> Result<&Arc<VersionFolder>, String> {
        self.get(version).ok_or_else(|| {
            format!(
                "no bank API {version}: available versions are {}",
                self.names().join(", ")
            )
        })
    }

    /// Every version, in order.
    pub fn versions(&self) -> Vec<ApiVersion> {
        self.folders.keys().copied().collect()
    }

    /// Every version's name, in order (`v1`, `v2`…).
    pub fn names(&self) -> Vec<String> {
        self.folders.keys().map(ToString::to_string).collect()
    }
}

/// The version folders of `dir` (see [`Catalog::with_dir`]).
pub fn read_dir(dir: &Path) -> Result<Vec<VersionFolder>, FolderError> {
    let meta = fs::metadata(dir).map_err(|e| {
        FolderError::new(
            dir,
            format!("cannot read the versions folder: {e} (give a folder that holds v4/, v5/… or is one)"),
        )
    })?;
    if !meta.is_dir() {
        return Err(FolderError::new(
            dir,
            "is not a folder: give a folder that holds v4/, v5/… (or one version folder)",
        ));
    }
    if dir.join("manifest.json").is_file() {
        return Ok(vec![VersionFolder::read(dir)?]);
    }
    let mut dirs: Vec<_> = fs::read_dir(dir)
        .map_err(|e| FolderError::new(dir, format!("cannot read the folder: {e}")))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.parse::<ApiVersion>().is_ok() && n.starts_with(['v', 'V']))
        })
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(FolderError::new(
            dir,
            "holds no version folder: expected v4/manifest.json (or give the version folder itself)",
        ));
    }
    dirs.iter().map(|d| VersionFolder::read(d)).collect()
}
