//! Serving the API on a socket with the status poller scheduled, and stopping both.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::Error;
use crate::http::app;
use crate::jobs::{Scheduled, start_scheduler};
use crate::payment::lock;
use crate::state::AppState;

/// A running platform. [`shutdown`](Self::shutdown) stops it gracefully; dropping it stops
/// the server and the scheduler without waiting.
#[derive(Debug)]
pub struct RunningPlatform {
    address: SocketAddr,
    state: AppState,
    scheduled: Option<Scheduled>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Binds `config.bind_address:config.port` (127.0.0.1 and a free port by default), schedules
/// the status poller (unless `disable_poller`) and serves the API until
/// [`RunningPlatform::shutdown`].
pub async fn start(config: Config) -> Result<RunningPlatform, Error> {
    let address = SocketAddr::new(config.bind_address, config.port);
    let disable_poller = config.disable_poller;
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| Error::Bind { address, source })?;
    let address = listener
        .local_addr()
        .map_err(|source| Error::Bind { address, source })?;
    let scheduled = if disable_poller {
        tracing::warn!("DISABLE_POLLER is set: the bank status poller is not scheduled");
        None
    } else {
        let scheduled = start_scheduler(&state.0).await?;
        *lock(&state.0.scheduled) = Some(scheduled.clone());
        state.0.poller.set_registered(true);
        Some(scheduled)
    };
    state.0.register_webhook().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app(state.clone()))
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let config = state.config();
    tracing::info!(
        %address,
        bank_api_version = %config.bank_api_version,
        bank_base_url = config.bank_base_url.as_deref().unwrap_or("-"),
        poll_schedule = %config.poll_schedule,
        poller = if disable_poller { "disabled" } else { "scheduled" },
        missing_credentials = ?config.missing_credentials(),
        "sample platform started"
    );
    Ok(RunningPlatform {
        address,
        state,
        scheduled,
        stop: Some(stop),
        server: Some(server),
    })
}

impl RunningPlatform {
    /// The API root, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The socket address served.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The state behind the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops gracefully: the scheduler stops firing, a poller run in progress finishes, the
    /// server stops accepting and finishes the requests in flight.
    pub async fn shutdown(mut self) {
        self.state.0.poller.set_registered(false);
        if let Some(mut scheduled) = self.scheduled.take() {
            *lock(&self.state.0.scheduled) = None;
            if let Err(e) = scheduled.scheduler.shutdown().await {
                tracing::warn!("stop the job scheduler: {e:?}");
            }
        }
        // Wait for a run in progress (the lock is released when it ends).
        self.state.0.poller.wait_idle().await;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!("the HTTP server stopped with an error: {e}"),
                Err(e) => tracing::warn!("the HTTP server task failed: {e}"),
            }
        }
        // The requests are done: their spans are all queued.
        self.state.0.telemetry.flush().await;
        tracing::info!(address = %self.address, "sample platform stopped");
    }
}

impl Drop for RunningPlatform {
    fn drop(&mut self) {
        self.state.0.poller.set_registered(false);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(mut scheduled) = self.scheduled.take() {
            *lock(&self.state.0.scheduled) = None;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = scheduled.scheduler.shutdown().await;
                });
            }
        }
    }
}

/// Resolves on Ctrl-C, or SIGTERM on Unix (what `docker stop` and Kubernetes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
