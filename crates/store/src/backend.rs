//! The two databases behind one small interface: run a script, read rows, write many rows
//! in one transaction. The SQL is the same for both (`$1` parameters, TEXT and BIGINT).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};

/// A value bound to or read from a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Val {
    pub(crate) fn text(s: impl Into<String>) -> Self {
        Self::Text(Some(s.into()))
    }

    pub(crate) fn opt(s: Option<&str>) -> Self {
        Self::Text(s.map(str::to_owned))
    }

    pub(crate) fn int(i: impl TryInto<i64>) -> Self {
        Self::Int(Some(i.try_into().unwrap_or(i64::MAX)))
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(i) => *i,
            Self::Text(_) => None,
        }
    }

    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => t.as_deref(),
            Self::Int(_) => None,
        }
    }

    fn boxed(&self) -> Box<dyn ToSql + Sync + Send> {
        match self {
            Self::Int(i) => Box::new(*i),
            Self::Text(t) => Box::new(t.clone()),
        }
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Self::Int(Some(i)) => ToSqlOutput::Owned(Value::Integer(*i)),
            Self::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Self::Int(None) | Self::Text(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// One statement and the rows of parameters it is run with.
pub(crate) type Batch = (&'static str, Vec<Vec<Val>>);

/// Rows a SQLite `INSERT` takes at once: one statement of 32 rows costs SQLite about
/// half per row of 32 statements of one (the statement's set-up, cursors and end are
/// paid once), on a run's thousands of step and attempt rows.
const MANY_ROWS: usize = 32;

/// The `INSERT … VALUES (…), (…), …` of [`MANY_ROWS`] rows for a plain one-row `INSERT`
/// of `columns` values; `None` for any other statement (an upsert, an update, a delete),
/// or when the statement would pass SQLite's limit of 32,766 parameters.
fn many_rows(sql: &str, columns: usize) -> Option<String> {
    if !sql.starts_with("INSERT INTO ") || sql.contains(" ON CONFLICT ") || columns == 0 {
        return None;
    }
    if columns * MANY_ROWS > 32_766 {
        return None;
    }
    let head = &sql[..sql.find(" VALUES (")?];
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    Some(format!(
        "{head} VALUES {}",
        vec![tuple; MANY_ROWS].join(", ")
    ))
}

/// How long a PostgreSQL server may take to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows per pipelined group on PostgreSQL.
const PIPELINE: usize = 512;

pub(crate) enum Backend {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(tokio::sync::Mutex<tokio_postgres::Client>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "Backend::Sqlite",
            Self::Postgres(_) => "Backend::Postgres",
        })
    }
}

/// A driver's error as text (what the message shows after the store's name).
#[derive(Debug)]
pub(crate) struct DbError {
    pub(crate) text: String,
    /// The server could not be reached at all.
    pub(crate) unreachable: bool,
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self {
            text: e.to_string(),
            unreachable: false,
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        // `Display` of a server error is only "db error"; its source says what.
        let text = match e.as_db_error() {
            Some(db) => db.to_string(),
            None => match std::error::Error::source(&e) {
                Some(src) => format!("{e}: {src}"),
                None => e.to_string(),
            },
        };
        Self {
            unreachable: e.as_db_error().is_none() && e.is_closed(),
            text,
        }
    }
}

impl DbError {
    fn other(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            unreachable: false,
        }
    }
}

fn joined<T>(r: Result<Result<T, DbError>, tokio::task::JoinError>) -> Result<T, DbError> {
    r.unwrap_or_else(|e| Err(DbError::other(format!("the store's worker stopped: {e}"))))
}

impl Backend {
    pub(crate) async fn open_sqlite(path: &Path) -> Result<Self, DbError> {
        let path = path.to_owned();
        joined(
            tokio::task::spawn_blocking(move || {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::other(format!("failed to create {}: {e}", dir.display()))
                    })?;
                }
                let conn = rusqlite::Connection::open(&path)?;
                conn.busy_timeout(Duration::from_secs(10))?;
                // WAL: readers (`rehearse history`) never block a run's writer.
                conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
                // The WAL is kept short: every process that opens the store first reads the
                // whole WAL back (SQLite's recovery of the wal-index, as no connection
                // outlives a run), so a WAL left to grow to SQLite's default of 1,000 pages
                // (~4 MB) cost a 1-step run ~4 ms more with every run recorded. Once it
                // outgrows 1 MB (ten 1-step runs), the next opening checkpoints it, while the
                // suite loads ([`checkpoint_if_long`]); the run's first write then starts the
                // WAL over and cuts the file back to 1 MB.
                //
                // Not SQLite's own checkpoint inside a run's commits (every 256 pages
                // before): there it competed for the CPU with the run (two `fsync`s, the WAL
                // read back, the pages written again; four times in a 1,000-scenario run,
                // docs/BENCHMARKS.md, "The store"). It stays as a backstop, at 16 MB (a run
                // of several thousand scenarios).
                //
                // Temporary files in memory: a statement of many rows keeps a statement
                // journal, which SQLite otherwise creates as a file in /var/tmp for every
                // transaction.
                conn.execute_batch(
                    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY; \
                     PRAGMA wal_autocheckpoint = 4096; PRAGMA journal_size_limit = 1048576;",
                )?;
                checkpoint_if_long(&conn, &path);
                // No checkpoint when the connection closes: it cost every run two `fsync`s
                // (the WAL, then the database) at exit, several milliseconds of a short
                // run. The WAL is still folded into the database by the next opening's
                // checkpoint (above), and every reader reads through it, so nothing is lost
                // or stale; the `-wal` file stays beside the database between runs.
                conn.set_db_config(
                    rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                    true,
                )?;
                Ok(Self::Sqlite(Arc::new(Mutex::new(conn))))
            })
            .await,
        )
    }

    pub(crate) async fn open_postgres(url: &str) -> Result<Self, DbError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| DbError {
            text: format!("invalid PostgreSQL URL: {e}"),
            unreachable: false,
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("rehearse");
        let connect = config.connect(tokio_postgres::NoTls);
        let (client, connection) = match tokio::time::timeout(CONNECT_TIMEOUT * 2, connect).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let mut err = DbError::from(e);
                // No server error: nothing answered.
                err.unreachable = !err.text.contains("password") && !err.text.contains("role");
                return Err(err);
            }
            Err(_) => {
                return Err(DbError {
                    text: "no answer within 10s".to_owned(),
                    unreachable: true,
                });
            }
        };
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("the store's PostgreSQL connection ended: {e}");
            }
        });
        Ok(Self::Postgres(tokio::sync::Mutex::new(client)))
    }

    /// Runs statements without parameters.
    pub(crate) async fn script(&self, sql: &'static str) -> Result<(), DbError> {
        match self {
            Self::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                joined(
                    tokio::task::spawn_blocking(move || {
                        lock(&conn)?.execute_batch(sql)?;
                        Ok(())
                    })
                    .await,
                )
            }
            Self::Postgres(client) => {
                // Under the migrations' lock: `CREATE TABLE IF NOT EXISTS` is not safe
                // against itself on PostgreSQL (two shards opening a fresh store at once
                // met "duplicate key value violates unique constraint
                // pg_type_typname_nsp_index").
                let mut client = client.lock().await;
                let tx = client.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock(726173)", &[])
                    .await?;
                tx.batch_execute(sql).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Reads rows.
    pub(crate) async fn query(
        &self,
        sql: &'static str,
        params: Vec<Val>,
    ) -> Result<Vec<Vec<Val>>, DbError> {
        match self {
            Self::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                joined(
                    tokio::task::spawn_blocking(move || {
                        let conn = lock(&conn)?;
                        let mut st = conn.prepare_cached(sql)?;
                        let n = st.column_count();
                        let rows = st
                            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                                (0..n).map(|i| sqlite_val(row, i)).collect()
                            })?
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(rows)
                    })
                    .await,
                )
            }
            Self::Postgres(client) => {
                let boxed: Vec<_> = params.iter().map(Val::boxed).collect();
                let refs: Vec<&(dyn ToSql + Sync)> = boxed
                    .iter()
                    .map(|b| b.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                let rows = client.lock().await.query(sql, &refs).await?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| {
                                if *row.columns()[i].type_() == Type::INT8 {
                                    Val::Int(row.get::<_, Option<i64>>(i))
                                } else {
                                    Val::Text(row.get::<_, Option<String>>(i))
                                }
                            })
                            .collect()
                    })
                    .collect())
            }
        }
    }

    /// Runs every batch `build` makes in one transaction: all of it is written or none.
    /// The batches are made where they are written: for SQLite on the writer's thread, so
    /// that a run's rows are not built on the thread that runs its scenarios.
    pub(crate) async fn write_built(
        &self,
        build: impl FnOnce() -> Vec<Batch> + Send + 'static,
    ) -> Result<(), DbError> {
        match self {
            Self::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                joined(
                    tokio::task::spawn_blocking(move || {
                        let batches = build();
                        let mut conn = lock(&conn)?;
                        let tx = conn.transaction()?;
                        for (sql, rows) in &batches {
                            let mut rest = rows.as_slice();
                            // Prepared only when used: a statement of 32 rows costs
                            // SQLite twice a one-row one to prepare.
                            if rows.len() >= MANY_ROWS
                                && let Some(many) = many_rows(sql, rows.first().map_or(0, Vec::len))
                            {
                                let mut st = tx.prepare_cached(&many)?;
                                while rest.len() >= MANY_ROWS {
                                    let (chunk, tail) = rest.split_at(MANY_ROWS);
                                    st.execute(rusqlite::params_from_iter(chunk.iter().flatten()))?;
                                    rest = tail;
                                }
                            }
                            let mut st = tx.prepare_cached(sql)?;
                            for row in rest {
                                st.execute(rusqlite::params_from_iter(row.iter()))?;
                            }
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await,
                )
            }
            Self::Postgres(client) => {
                let batches = build();
                let mut client = client.lock().await;
                let tx = client.transaction().await?;
                for (sql, rows) in &batches {
                    let st = tx.prepare(sql).await?;
                    for chunk in rows.chunks(PIPELINE) {
                        let boxed: Vec<Vec<_>> = chunk
                            .iter()
                            .map(|r| r.iter().map(Val::boxed).collect())
                            .collect();
                        let refs: Vec<Vec<&(dyn ToSql + Sync)>> = boxed
                            .iter()
                            .map(|r: &Vec<Box<dyn ToSql + Sync + Send>>| {
                                r.iter()
                                    .map(|b| b.as_ref() as &(dyn ToSql + Sync))
                                    .collect()
                            })
                            .collect();
                        // Sent together: tokio-postgres pipelines concurrent queries.
                        futures::future::try_join_all(
                            refs.iter().map(|p| tx.execute(&st, p.as_slice())),
                        )
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Applies a migration `sql` as `version` unless a concurrent opener already did, with
    /// `schema_version` read under a lock: two runs opening a fresh store at once migrate
    /// it once.
    pub(crate) async fn migrate(&self, version: i64, sql: &'static str) -> Result<(), DbError> {
        let now = chrono::Utc::now().to_rfc3339();
        match self {
            Self::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                joined(
                    tokio::task::spawn_blocking(move || {
                        let mut conn = lock(&conn)?;
                        let tx = conn
                            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                        let current: Option<i64> =
                            tx.query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                                r.get(0)
                            })?;
                        if current.unwrap_or(0) < version {
                            tx.execute_batch(sql)?;
                            tx.execute(
                                "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                                rusqlite::params![version, now],
                            )?;
                        }
                        tx.commit()?;
                        Ok(())
                    })
                    .await,
                )
            }
            Self::Postgres(client) => {
                let mut client = client.lock().await;
                let tx = client.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock(726173)", &[])
                    .await?;
                let row = tx
                    .query_one("SELECT MAX(version) FROM schema_version", &[])
                    .await?;
                let current: Option<i64> = row.get(0);
                if current.unwrap_or(0) < version {
                    tx.batch_execute(sql).await?;
                    tx.execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                        &[&version, &now],
                    )
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    }
}

/// What the WAL may hold before a store's opening checkpoints it (SQLite's
/// `journal_size_limit`, above: a WAL that was reset after a checkpoint is cut back to it,
/// so one beyond it has frames no checkpoint has copied).
const WAL_LIMIT: u64 = 1_048_576;

/// Checkpoints the store at `path` when its WAL has outgrown [`WAL_LIMIT`]: passive, so
/// it never waits for another process's reader or writer (what they hold is left to a
/// later checkpoint), and a failure only leaves the WAL long.
fn checkpoint_if_long(conn: &rusqlite::Connection, path: &Path) {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).map_or(true, |m| m.len() <= WAL_LIMIT) {
        return;
    }
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    }) {
        Ok((frames, copied)) => {
            tracing::debug!("store: checkpointed {copied} of {frames} WAL frames")
        }
        Err(e) => tracing::debug!("store: checkpoint left to the next opening: {e}"),
    }
}

fn lock(
    conn: &Mutex<rusqlite::Connection>,
) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, DbError> {
    conn.lock()
        .map_err(|_| DbError::other("the store's connection was poisoned by a panic"))
}

fn sqlite_val(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Val> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(n) => Val::Int(Some(n)),
        ValueRef::Real(f) => Val::Text(Some(f.to_string())),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Val::Text(Some(String::from_utf8_lossy(t).into_owned()))
        }
        ValueRef::Null => Val::Text(None),
    })
}

#[cfg(test)]
mod many_rows_tests {
    use super::{MANY_ROWS, many_rows};

    #[test]
    fn a_plain_insert_takes_many_rows_and_nothing_else_does() {
        let sql = "INSERT INTO steps (run_id, idx) VALUES ($1, $2)";
        let many = many_rows(sql, 2).unwrap();
        assert!(many.starts_with("INSERT INTO steps (run_id, idx) VALUES (?, ?), (?, ?)"));
        assert_eq!(many.matches('?').count(), 2 * MANY_ROWS);
        assert_eq!(
            many_rows(
                "INSERT INTO runs (id) VALUES ($1) ON CONFLICT (id) DO NOTHING",
                1
            ),
            None
        );
        assert_eq!(many_rows("UPDATE ledger SET x = $1 WHERE id = $2", 2), None);
        assert_eq!(many_rows(sql, 0), None);
        assert_eq!(many_rows(sql, 2_000), None);
    }
}
