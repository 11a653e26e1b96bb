//! A real hookhub on a random port with its own database file, and a browser-like client.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{ACCEPT, ORIGIN, REFERER};
use reqwest::{Client, Response, StatusCode, redirect};
use server::Config;
use server::receiving::handlers::HandlerKind;
use server_fn::ServerFn;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub config: Config,
    handler_kinds: Vec<Arc<dyn HandlerKind>>,
    _dir: TempDir,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_kinds(adjust, Vec::new()).await
    }

    /// A hub with handler kinds of the test's own besides the built-in ones.
    pub async fn spawn_with_kinds(
        adjust: impl FnOnce(&mut Config),
        handler_kinds: Vec<Arc<dyn HandlerKind>>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::load(None, Vec::new()).expect("default config");
        config.database = server::storage::testing::database(dir.path()).await;
        adjust(&mut config);
        let mut app = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            config,
            handler_kinds,
            _dir: dir,
            shutdown: CancellationToken::new(),
            handle: None,
        };
        app.start().await;
        app
    }

    /// Binds `self.addr`: port 0 at first, the same port again on a restart.
    async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.addr = listener.local_addr().unwrap();
        self.shutdown = CancellationToken::new();
        self.handle = Some(tokio::spawn(server::run_with(
            self.config.clone(),
            self.handler_kinds.clone(),
            listener,
            self.shutdown.clone(),
        )));
        self.wait_until_healthy().await;
    }

    async fn wait_until_healthy(&self) {
        let healthy = healthy_within(&self.url(""), std::time::Duration::from_secs(5)).await;
        assert!(healthy, "hookhub did not become healthy on {}", self.addr);
    }

    /// Stops the server gracefully and starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client that keeps cookies and does not follow redirects, as a test wants to see them.
    /// A request that hangs fails its test within a minute instead of stalling the suite.
    pub fn client(&self) -> Client {
        Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// Calls a server function as the hydrated app does, from this hub's own origin.
    pub async fn call<F: ServerFn>(&self, client: &Client, form: &[(&str, &str)]) -> Response {
        self.call_from::<F>(client, form, &self.url("")).await
    }

    pub async fn call_from<F: ServerFn>(
        &self,
        client: &Client,
        form: &[(&str, &str)],
        origin: &str,
    ) -> Response {
        client
            .post(self.url(F::PATH))
            .header(ORIGIN, origin)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a server function's form as a browser without JavaScript does.
    pub async fn submit_form<F: ServerFn>(
        &self,
        client: &Client,
        page: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(self.url(F::PATH))
            .header(ORIGIN, self.url(""))
            .header(REFERER, self.url(page))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates the admin through first-run setup; returns a client signed in as the admin.
    pub async fn set_up(&self) -> Client {
        let client = self.client();
        let response = self
            .call::<app::api::SetUp>(
                &client,
                &[
                    ("username", ADMIN),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{}",
            response.status()
        );
        client
    }

    pub async fn log_in(&self, username: &str, password: &str) -> (Client, Response) {
        let client = self.client();
        let response = self
            .call::<app::api::LogIn>(&client, &[("username", username), ("password", password)])
            .await;
        (client, response)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `{base}/healthz` every 25 ms until it answers 2xx; false when `within` passes first.
pub async fn healthy_within(base: &str, within: std::time::Duration) -> bool {
    let client = Client::new();
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    false
}

pub async fn app_error(response: Response) -> app::error::AppError {
    let body = response.text().await.unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub async fn assert_page(response: Response, status: StatusCode, needle: &str) -> String {
    assert_eq!(response.status(), status);
    let body = response.text().await.unwrap();
    assert!(body.contains(needle), "page lacks {needle:?}:\n{body}");
    body
}

/// A receiver on loopback that answers 200 a second after each request arrives, so a test can
/// stop a hub while a request to it is under way.
pub struct SlowReceiver {
    pub url: String,
    arrived: Arc<tokio::sync::Semaphore>,
    requests: Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowReceiver {
    pub async fn start() -> Self {
        let arrived = Arc::new(tokio::sync::Semaphore::new(0));
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let slow = axum::Router::new().fallback({
            let (arrived, requests) = (Arc::clone(&arrived), Arc::clone(&requests));
            move || async move {
                requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                arrived.add_permits(1);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                "thanks"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slow", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, slow).await });
        Self {
            url,
            arrived,
            requests,
        }
    }

    /// Waits until a request has arrived (and is being answered), or fails after 10 s.
    pub async fn wait_for_a_request(&self) {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.arrived.acquire())
            .await
            .expect("no request reached the receiver")
            .unwrap()
            .forget();
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}
