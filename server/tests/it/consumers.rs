//! Consumers over real HTTP: messages addressed to one reach only their subscriptions, and
//! their portal, signed in by a single-use link, reaches only their own things, never another
//! consumer's, and opens nothing for a dashboard session.

use app::portal::api::{
    PortalDeleteSubscription, PortalDeliveries, PortalDelivery, PortalRedeliver,
    PortalRedeliverFailedSince, PortalRotateSecret, PortalSendTestEvent,
    PortalSetSubscriptionState, PortalSubscription, PortalSubscriptions, PortalUpdateSubscription,
};
use reqwest::header::{CONTENT_SECURITY_POLICY, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server_fn::ServerFn;

use crate::helpers::{TestApp, app_error, location};
use crate::receiving::Hub;
use crate::sending::{Subscriber, hub};

impl Hub {
    async fn consumer(&self, id: &str) {
        let (status, answer) = self
            .api(
                Method::POST,
                "/api/v1/consumers",
                Some(json!({"id": id, "name": id.to_uppercase()})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    async fn subscribe_as(&self, url: &str, body: Value) -> String {
        let mut body = body;
        body["url"] = json!(url);
        body["event_types"] = json!(["order.shipped"]);
        let (status, answer) = self
            .api(Method::POST, "/api/v1/subscriptions", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer["id"].as_str().unwrap().to_owned()
    }

    async fn publish_to(&self, consumer: Option<&str>) -> (StatusCode, Value) {
        let mut body = json!({"event_type": "order.shipped", "payload": {"order": 1}});
        if let Some(consumer) = consumer {
            body["consumer"] = json!(consumer);
        }
        self.api(Method::POST, "/api/v1/messages", Some(body)).await
    }

    /// A client signed in to `consumer`'s portal through a fresh link.
    async fn portal_client(&self, consumer: &str) -> Client {
        let link = self.portal_link(consumer).await;
        let client = self.app.client();
        let response = client.get(&link).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/portal");
        client
    }

    async fn portal_link(&self, consumer: &str) -> String {
        let (status, link) = self
            .api(
                Method::POST,
                &format!("/api/v1/consumers/{consumer}/portal-link"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        link["url"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_message_for_a_consumer_reaches_theirs_and_those_that_take_every_consumers() {
    let hub = hub("0").await;
    hub.event_type("order.shipped").await;
    hub.consumer("acme").await;
    hub.consumer("globex").await;
    let subscribers = [
        Subscriber::start().await,
        Subscriber::start().await,
        Subscriber::start().await,
        Subscriber::start().await,
    ];
    let acme_subscription = hub
        .subscribe_as(&subscribers[0].base, json!({"consumer": "acme"}))
        .await;
    hub.subscribe_as(&subscribers[1].base, json!({"consumer": "globex"}))
        .await;
    hub.subscribe_as(&subscribers[2].base, json!({})).await;
    hub.subscribe_as(&subscribers[3].base, json!({"all_consumers": true}))
        .await;

    let (status, answer) = hub.publish_to(Some("acme")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(
        answer["deliveries"], 2,
        "acme's and the one for every consumer"
    );
    let (_, answer) = hub.publish_to(None).await;
    assert_eq!(answer["deliveries"], 2, "the two of no consumer");
    let (status, answer) = hub.publish_to(Some("initech")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no consumer `initech`"),
        "{answer}"
    );

    subscribers[0].wait_for(1).await;
    subscribers[3].wait_for(2).await;
    subscribers[2].wait_for(1).await;
    assert_eq!(subscribers[1].count(), 0, "globex got nothing");

    let (_, page) = hub
        .api(Method::GET, "/api/v1/deliveries?consumer=acme", None)
        .await;
    let theirs: Vec<&Value> = page["data"].as_array().unwrap().iter().collect();
    assert_eq!(theirs.len(), 1, "{page}");
    assert_eq!(theirs[0]["subscription_id"], acme_subscription.as_str());
    let (_, list) = hub
        .api(Method::GET, "/api/v1/subscriptions?consumer=globex", None)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["consumer"], "globex");

    // A consumer's subscription cannot also take every consumer's; an unknown one is refused.
    for body in [
        json!({"url": "http://127.0.0.1:9/", "event_types": ["*"], "consumer": "acme", "all_consumers": true}),
        json!({"url": "http://127.0.0.1:9/", "event_types": ["*"], "consumer": "nobody"}),
    ] {
        let (status, answer) = hub
            .api(Method::POST, "/api/v1/subscriptions", Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("consumer:")
        );
    }
}

#[tokio::test]
async fn consumers_are_checked_changed_and_deleted_with_their_subscriptions() {
    let hub = hub("0").await;
    hub.event_type("order.shipped").await;
    hub.consumer("acme").await;
    let (status, answer) = hub
        .api(
            Method::POST,
            "/api/v1/consumers",
            Some(json!({"id": "acme"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, answer) = hub
        .api(
            Method::POST,
            "/api/v1/consumers",
            Some(json!({"id": "a b/c"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, changed) = hub
        .api(
            Method::PATCH,
            "/api/v1/consumers/acme",
            Some(json!({"name": "Acme Corp", "metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Acme Corp");
    assert_eq!(changed["metadata"]["plan"], "pro");

    hub.subscribe_as("http://127.0.0.1:9/hook", json!({"consumer": "acme"}))
        .await;
    let (status, _) = hub
        .api(Method::DELETE, "/api/v1/consumers/acme", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = hub.api(Method::GET, "/api/v1/subscriptions", None).await;
    assert_eq!(list["data"], json!([]));
    let (status, _) = hub.api(Method::GET, "/api/v1/consumers/acme", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = hub
        .api(Method::POST, "/api/v1/consumers/acme/portal-link", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_portal_link_signs_in_once_and_a_rotated_key_ends_the_session() {
    let hub = Hub::start().await;
    hub.consumer("acme").await;
    let link = hub.portal_link("acme").await;
    assert!(link.contains("/portal/sign-in?token=hpl_"), "{link}");
    let client = hub.app.client();
    let first = client.get(&link).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let cookie = first.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for part in [
        "hookhub_portal=hps_",
        "HttpOnly",
        "Path=/portal",
        "SameSite=Lax",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let page = client.get(hub.app.url("/portal")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");

    let again = hub.app.client().get(&link).send().await.unwrap();
    assert_eq!(
        location(&again),
        "/portal/signed-out?link=1",
        "a link works once"
    );
    let forged = hub
        .app
        .client()
        .get(hub.app.url("/portal/sign-in?token=hpl_x"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&forged), "/portal/signed-out?link=1");

    let unused = hub.portal_link("acme").await;
    let (status, _) = hub
        .api(
            Method::POST,
            "/api/v1/consumers/acme/rotate-portal-key",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ended = client.get(hub.app.url("/portal")).send().await.unwrap();
    assert_eq!(location(&ended), "/portal/signed-out");
    let revoked = hub.app.client().get(&unused).send().await.unwrap();
    assert_eq!(location(&revoked), "/portal/signed-out?link=1");
}

#[tokio::test]
async fn the_portal_may_be_framed_only_by_the_configured_origin() {
    let hub = Hub::start_with(|config| {
        config.portal.frame_origin = Some("https://app.example.com".into());
        config.portal.logo_url = Some("https://cdn.example.com/logo.svg".into());
        config.portal.name = "Acme Cloud".into();
    })
    .await;
    hub.consumer("acme").await;
    let client = hub.portal_client("acme").await;
    let page = client.get(hub.app.url("/portal")).send().await.unwrap();
    let policy = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("frame-ancestors https://app.example.com;"),
        "{policy}"
    );
    assert!(
        policy.contains("img-src 'self' https://cdn.example.com;"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Acme Cloud") && html.contains("https://cdn.example.com/logo.svg"));
    // The dashboard stays unframeable.
    let login = hub
        .app
        .client()
        .get(hub.app.url("/login"))
        .send()
        .await
        .unwrap();
    let policy = login.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
}

/// Calls a portal server function; answers its status and body.
async fn portal_call<F: ServerFn>(
    app: &TestApp,
    client: &Client,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = app.call::<F>(client, form).await;
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_portal_reaches_only_the_signed_in_consumers_own_things() {
    let hub = hub("0").await;
    hub.event_type("order.shipped").await;
    hub.consumer("acme").await;
    hub.consumer("globex").await;
    let subscriber = Subscriber::start().await;
    subscriber.answer(&[500, 500]);
    let acme = hub
        .subscribe_as(
            &format!("{}/acme", subscriber.base),
            json!({"consumer": "acme"}),
        )
        .await;
    let globex = hub
        .subscribe_as(
            &format!("{}/globex", subscriber.base),
            json!({"consumer": "globex"}),
        )
        .await;
    hub.publish_to(Some("acme")).await;
    hub.publish_to(Some("globex")).await;
    subscriber.wait_for(2).await;
    let failed = "/api/v1/deliveries?status=failed";
    for _ in 0..500 {
        let (_, page) = hub.api(Method::GET, failed, None).await;
        if page["data"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, page) = hub
        .api(Method::GET, "/api/v1/deliveries?consumer=globex", None)
        .await;
    let globex_delivery = page["data"][0]["id"].as_i64().unwrap().to_string();

    let portal = hub.portal_client("acme").await;
    let app = &hub.app;
    let (status, body) = portal_call::<PortalSubscriptions>(app, &portal, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&acme) && !body.contains(&globex), "{body}");
    let (status, body) = portal_call::<PortalDeliveries>(app, &portal, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("/acme") && !body.contains("/globex"),
        "{body}"
    );
    let (status, _) = portal_call::<PortalSubscription>(app, &portal, &[("id", &acme)]).await;
    assert_eq!(status, StatusCode::OK);

    // Every function that names something, with globex's ids: not found, and nothing done.
    let form = [
        ("id", globex.as_str()),
        ("state", "paused"),
        ("form[url]", "http://127.0.0.1:9/taken"),
        ("form[event_types]", "*"),
    ];
    let by_subscription = [
        PortalSubscription::PATH,
        PortalUpdateSubscription::PATH,
        PortalSetSubscriptionState::PATH,
        PortalRotateSecret::PATH,
        PortalSendTestEvent::PATH,
        PortalDeleteSubscription::PATH,
    ];
    for path in by_subscription {
        let response = portal
            .post(app.url(path))
            .header("origin", app.url(""))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in [PortalDelivery::PATH, PortalRedeliver::PATH] {
        let response = portal
            .post(app.url(path))
            .header("origin", app.url(""))
            .form(&[("id", globex_delivery.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let (status, body) =
        portal_call::<PortalRedeliverFailedSince>(app, &portal, &[("since", "2000-01-01")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.trim(), "1", "only acme's failed delivery");
    let (_, theirs) = hub
        .api(
            Method::GET,
            &format!("/api/v1/subscriptions/{globex}"),
            None,
        )
        .await;
    assert_eq!(theirs["state"], "active");
    assert_eq!(theirs["url"], format!("{}/globex", subscriber.base));

    // A portal session opens nothing of the dashboard.
    app.set_up().await;
    let dashboard = app.get(&portal, "/subscriptions").await;
    assert!(location(&dashboard).starts_with("/login"));
    let response = app.call::<app::api::ListSubscriptions>(&portal, &[]).await;
    assert_eq!(
        app_error(response).await,
        app::error::AppError::Unauthorized
    );
}

#[tokio::test]
async fn a_dashboard_session_opens_nothing_of_the_portal() {
    let hub = Hub::start().await;
    hub.consumer("acme").await;
    let admin = hub.app.set_up().await;
    let page = hub.app.get(&admin, "/portal").await;
    assert_eq!(location(&page), "/portal/signed-out");
    for path in [PortalSubscriptions::PATH, PortalDeliveries::PATH] {
        let response = admin
            .post(hub.app.url(path))
            .header("origin", hub.app.url(""))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}
