//! First-run setup, login, logout, throttling, sessions and user management.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::api::{AddUser, ChangePassword, CurrentUser, LogIn, LogOut, RemoveUser, SetUp};
use app::error::AppError;
use reqwest::StatusCode;

use crate::helpers::{ADMIN, PASSWORD, TestApp, app_error, assert_page, location};

#[tokio::test]
async fn first_visit_leads_to_setup() {
    let app = TestApp::spawn().await;
    let client = app.client();

    for path in ["/", "/settings", "/login"] {
        let response = app.get(&client, path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/setup", "{path}");
    }
    assert_page(
        app.get(&client, "/setup").await,
        StatusCode::OK,
        "Create the admin account",
    )
    .await;
}

#[tokio::test]
async fn setup_creates_the_admin_once_and_signs_in() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;

    assert_page(app.get(&client, "/").await, StatusCode::OK, "Overview").await;
    let me = app.call::<CurrentUser>(&client, &[]).await;
    assert!(me.text().await.unwrap().contains("\"is_admin\":true"));

    // A second setup is refused, and the setup page now sends people to login.
    let other = app.client();
    let again = app
        .call::<SetUp>(
            &other,
            &[
                ("username", "mallory"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert!(matches!(app_error(again).await, AppError::Forbidden(_)));
    let response = app.get(&other, "/setup").await;
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn setup_through_a_rebound_host_name_is_refused() {
    // A DNS-rebinding page: its own name now points at this machine, so its Origin and the
    // Host it sends agree, as for a same-origin request.
    let app = TestApp::spawn().await;
    let port = app.addr.port();
    let rebound = app
        .client()
        .post(app.url(<SetUp as server_fn::ServerFn>::PATH))
        .header("host", format!("attacker.example:{port}"))
        .header("origin", format!("http://attacker.example:{port}"))
        .form(&[
            ("username", "mallory"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    assert!(rebound.text().await.unwrap().contains("first-run setup"));
    // No admin was made: setup is still open to the owner.
    let owner = app.client();
    assert_eq!(location(&app.get(&owner, "/").await), "/setup");
    app.set_up().await;
}

#[tokio::test]
async fn setup_validates_fields() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let cases = [
        (("", PASSWORD, PASSWORD), "username"),
        (("bad name", PASSWORD, PASSWORD), "username"),
        ((ADMIN, "short", "short"), "password"),
        ((ADMIN, PASSWORD, "something else"), "confirm"),
    ];
    for ((username, password, confirm), field) in cases {
        let response = app
            .call::<SetUp>(
                &client,
                &[
                    ("username", username),
                    ("password", password),
                    ("confirm", confirm),
                ],
            )
            .await;
        let err = app_error(response).await;
        assert!(err.for_field(field).is_some(), "{field}: {err:?}");
    }
    // Nothing was created: setup is still open.
    assert_eq!(location(&app.get(&client, "/").await), "/setup");
}

#[tokio::test]
async fn login_failures_look_the_same_for_unknown_user_and_wrong_password() {
    let app = TestApp::spawn().await;
    app.set_up().await;

    let (_, wrong_password) = app.log_in(ADMIN, "not the password").await;
    let (_, unknown_user) = app.log_in("nobody", PASSWORD).await;
    let a = app_error(wrong_password).await;
    let b = app_error(unknown_user).await;
    assert_eq!(a, b);
    assert!(matches!(a, AppError::Forbidden(_)));

    let (client, ok) = app.log_in(ADMIN, PASSWORD).await;
    assert!(ok.status().is_success() || ok.status().is_redirection());
    assert_page(
        app.get(&client, "/settings").await,
        StatusCode::OK,
        "API keys",
    )
    .await;
}

#[tokio::test]
async fn login_cycles_the_session_id() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let client = app.client();
    // A failed attempt leaves no session to fixate; a login sets a fresh cookie.
    let (_, _) = app.log_in(ADMIN, "wrong password!").await;
    let response = app
        .call::<LogIn>(&client, &[("username", ADMIN), ("password", PASSWORD)])
        .await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("hookhub_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http by default: {cookie}"
    );
}

#[tokio::test]
async fn repeated_login_failures_are_throttled() {
    let app = TestApp::spawn_with(|c| c.login_max_failures = 3).await;
    app.set_up().await;

    for _ in 0..3 {
        let (_, response) = app.log_in(ADMIN, "wrong password!").await;
        assert!(matches!(app_error(response).await, AppError::Forbidden(_)));
    }
    // Even the right password is refused while locked out, with the wait in the message.
    let (_, response) = app.log_in(ADMIN, PASSWORD).await;
    let err = app_error(response).await;
    let AppError::Throttled { retry_after_secs } = err else {
        panic!("{err:?}")
    };
    assert!((1..=30).contains(&retry_after_secs));
    assert!(err.to_string().contains("Try again in"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;

    let response = app.call::<LogOut>(&client, &[]).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let response = app.get(&client, "/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}

#[tokio::test]
async fn session_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let client = app.set_up().await;
    app.restart().await;
    assert_page(app.get(&client, "/").await, StatusCode::OK, "Overview").await;
}

#[tokio::test]
async fn forms_work_without_javascript() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let client = app.client();

    // A wrong password redirects back to the login page with the error for the page to show.
    let response = app
        .submit_form::<LogIn>(
            &client,
            "/login",
            &[("username", ADMIN), ("password", "wrong password")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response).to_owned();
    assert!(
        back.starts_with(&app.url("/login?")) && back.contains("__err="),
        "{back}"
    );
    let page = client.get(&back).send().await.unwrap();
    assert_page(
        page,
        StatusCode::OK,
        "That username and password do not match.",
    )
    .await;

    // The right one redirects to where the person was going.
    let response = app
        .submit_form::<LogIn>(
            &client,
            "/login?next=/settings",
            &[
                ("username", ADMIN),
                ("password", PASSWORD),
                ("next", "/settings"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/settings");
    assert_page(
        app.get(&client, "/settings").await,
        StatusCode::OK,
        "Your password",
    )
    .await;
}

#[tokio::test]
async fn login_never_redirects_off_site() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let client = app.client();
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n",
    ] {
        let response = app
            .submit_form::<LogIn>(
                &client,
                "/login",
                &[("username", ADMIN), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(location(&response), "/", "{next}");
    }
}

#[tokio::test]
async fn admin_manages_users_and_members_cannot() {
    let app = TestApp::spawn().await;
    let admin = app.set_up().await;

    let added = app
        .call::<AddUser>(&admin, &[("username", "bob"), ("password", PASSWORD)])
        .await;
    assert!(added.status().is_success());
    let bob_id =
        serde_json::from_str::<serde_json::Value>(&added.text().await.unwrap()).unwrap()["id"]
            .as_i64()
            .unwrap();
    let taken = app
        .call::<AddUser>(&admin, &[("username", "bob"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        app_error(taken).await.for_field("username"),
        Some("That username is taken.")
    );

    let (bob, _) = app.log_in("bob", PASSWORD).await;
    let (bob_elsewhere, _) = app.log_in("bob", PASSWORD).await;
    let refused = app
        .call::<AddUser>(&bob, &[("username", "eve"), ("password", PASSWORD)])
        .await;
    assert!(matches!(app_error(refused).await, AppError::Forbidden(_)));

    // Bob changes his password; the old one stops working.
    let changed = app
        .call::<ChangePassword>(
            &bob,
            &[
                ("current", PASSWORD),
                ("new", "a brand new secret"),
                ("confirm", "a brand new secret"),
            ],
        )
        .await;
    assert!(changed.status().is_success());
    let (_, old) = app.log_in("bob", PASSWORD).await;
    assert!(matches!(app_error(old).await, AppError::Forbidden(_)));
    // His other session ends with the old password; the one he changed it in goes on.
    let ended = app.call::<CurrentUser>(&bob_elsewhere, &[]).await;
    assert_eq!(app_error(ended).await, AppError::Unauthorized);
    let page = app.get(&bob_elsewhere, "/settings").await;
    assert_eq!(location(&page), "/login?next=/settings");
    assert_page(app.get(&bob, "/settings").await, StatusCode::OK, "bob").await;

    // Removing Bob ends his session at once, for pages and server functions alike.
    let id = bob_id.to_string();
    let removed = app.call::<RemoveUser>(&admin, &[("id", &id)]).await;
    assert!(removed.status().is_success());
    let gone = app.call::<CurrentUser>(&bob, &[]).await;
    assert_eq!(app_error(gone).await, AppError::Unauthorized);
    let page = app.get(&bob, "/").await;
    assert_eq!(location(&page), "/login?next=/");
}

#[tokio::test]
async fn two_admins_removing_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    let admin = app.set_up().await;
    let add = |name| {
        let form = [
            ("username", name),
            ("password", PASSWORD),
            ("is_admin", "on"),
        ];
        let admin = &admin;
        let app = &app;
        async move {
            let added = app.call::<AddUser>(admin, &form).await;
            let body = added.text().await.unwrap();
            let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].to_string();
            (app.log_in(name, PASSWORD).await.0, id)
        }
    };
    for round in 0..5 {
        let (ann, ann_id) = add("ann").await;
        let (bob, bob_id) = add("bob").await;
        let (remove_bob, remove_ann) = ([("id", bob_id.as_str())], [("id", ann_id.as_str())]);
        let (by_ann, by_bob) = tokio::join!(
            app.call::<RemoveUser>(&ann, &remove_bob),
            app.call::<RemoveUser>(&bob, &remove_ann),
        );
        let succeeded = [by_ann, by_bob]
            .into_iter()
            .filter(|response| response.status().is_success())
            .count();
        assert_eq!(succeeded, 1, "round {round}");
        // Clear the survivor for the next round.
        for id in [&ann_id, &bob_id] {
            app.call::<RemoveUser>(&admin, &[("id", id)]).await;
        }
    }
}

#[tokio::test]
async fn create_user_command_works_beside_a_running_server() {
    let app = TestApp::spawn().await;
    app.set_up().await;
    let message =
        server::commands::create_user(app.config.clone(), "carol".into(), PASSWORD.into(), false)
            .await
            .unwrap();
    assert_eq!(message, "created user `carol`");
    let (_, response) = app.log_in("carol", PASSWORD).await;
    assert!(response.status().is_success(), "{}", response.status());
}

/// Listing the dashboard's routes again, as every hub started in this process does, must not
/// stall a page being rendered meanwhile: leptos holds every resource in the process while it
/// walks an app for its routes, so a hub starting beside another used to leave about one first
/// page in fifty waiting for ever.
#[tokio::test]
async fn pages_render_while_routes_are_listed_again() {
    let app = TestApp::spawn().await;
    let client = app.set_up().await;
    let done = Arc::new(AtomicBool::new(false));
    let lister = std::thread::spawn({
        let done = done.clone();
        move || {
            while !done.load(Ordering::Relaxed) {
                assert!(!server::http::dashboard_routes().is_empty());
            }
        }
    });
    let mut stalled = false;
    for _ in 0..50 {
        let page =
            async { assert_page(app.get(&client, "/").await, StatusCode::OK, "Overview").await };
        if tokio::time::timeout(Duration::from_secs(10), page)
            .await
            .is_err()
        {
            stalled = true;
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    lister.join().unwrap();
    assert!(!stalled, "the overview page did not finish within 10 s");
}

/// Whether `client` still gets the overview rather than a redirect to the login page.
async fn signed_in(app: &TestApp, client: &reqwest::Client) -> bool {
    let response = app.get(client, "/").await;
    if response.status().is_redirection() {
        assert!(location(&response).starts_with("/login"), "{response:?}");
        return false;
    }
    assert_eq!(response.status(), StatusCode::OK);
    true
}

#[tokio::test]
async fn a_session_lasts_while_used_and_ends_when_idle_or_too_old() {
    let idle = Duration::from_secs(2);
    let app = TestApp::spawn_with(|c| {
        c.session_ttl = idle;
        c.session_max = Duration::from_secs(6);
    })
    .await;
    let client = app.set_up().await;

    // Used every half second for twice the idle time: still signed in.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(signed_in(&app, &client).await, "ended while in use");
    }
    // Unused for longer than the idle time: ended.
    tokio::time::sleep(idle + Duration::from_millis(500)).await;
    assert!(!signed_in(&app, &client).await, "outlived its idle time");

    // However active, a login ends `session_max` after it began.
    let started = std::time::Instant::now();
    let (client, _) = app.log_in(ADMIN, PASSWORD).await;
    while signed_in(&app, &client).await {
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "outlived its cap"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(started.elapsed() >= Duration::from_secs(5), "ended early");
}
