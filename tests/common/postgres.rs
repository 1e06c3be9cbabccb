//! A real PostgreSQL server for a test: `initdb` into a temporary folder and `pg_ctl start`
//! on a free loopback port, stopped when dropped. Shared by the store's tests
//! (`crates/store/tests`) and the binary's (`tests/`). Needs Debian's `postgresql`
//! (`scripts/test.sh` installs it when missing). PostgreSQL refuses to run as root: as
//! root, the server runs as the `postgres` user (`runuser`), its folder handed to it.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; stopped (immediately) when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    /// Its port on 127.0.0.1.
    pub port: u16,
    running: bool,
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect(
            "PostgreSQL is not installed (/usr/lib/postgresql is missing): run scripts/test.sh --install-only, or apt-get install -y postgresql",
        )
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin: apt-get install -y postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// Starts a fresh server (about a second).
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            // The server's user must reach its folder.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "failed to chown the server's folder");
        }
        let mut pg = Self {
            dir,
            bin,
            as_postgres,
            port: 0,
            running: false,
        };
        let data = pg.data();
        pg.tool(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "rehearse",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        );
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn tool(&self, name: &str, args: &[&str]) {
        let tool = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&tool);
            c
        } else {
            Command::new(&tool)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts it (again) on a new free port.
    pub fn start_again(&mut self) {
        self.port = free_port();
        let sock = self.dir.path().display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-k {sock} -c listen_addresses=127.0.0.1 -p {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port
        );
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
        self.running = true;
    }

    /// Stops it (the URL then points at nothing).
    pub fn stop(&mut self) {
        if self.running {
            self.tool(
                "pg_ctl",
                &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
            );
            self.running = false;
        }
    }

    /// Its URL, with a password (the server trusts loopback; the password is there to
    /// prove it is never shown).
    pub fn url(&self) -> String {
        format!(
            "postgres://rehearse:pg-canary-pw@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let tool = self.bin.join("pg_ctl");
            let data = self.data();
            let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
            let _ = if self.as_postgres {
                Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(&tool)
                    .args(args)
                    .output()
            } else {
                Command::new(&tool).args(args).output()
            };
        }
    }
}
