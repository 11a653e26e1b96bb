//! sea-orm entities, one module per table. Only the storage modules use them.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub username: String,
        pub password_hash: String,
        pub is_admin: bool,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub data: String,
        pub expires_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub prefix: String,
        #[sea_orm(unique)]
        pub key_hash: String,
        pub created_at: i64,
        pub last_used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod source {
    use sea_orm::entity::prelude::*;

    use crate::ids::SourceId;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sources")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: SourceId,
        pub name: String,
        pub provider: String,
        /// The provider's settings as JSON.
        pub settings: String,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub enabled: bool,
        pub created_at: i64,
        pub updated_at: i64,
        /// The last secret a rotation retired, kept only to say so to a sender still signing
        /// with it; never accepted.
        pub retired_secret: Option<String>,
        /// When it was retired, in milliseconds.
        pub retired_at: Option<i64>,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Source")
                .field("id", &self.id)
                .field("name", &self.name)
                .field("provider", &self.provider)
                .field("secret", &"[redacted]")
                .field("enabled", &self.enabled)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use sea_orm::entity::prelude::*;

    use crate::ids::SourceId;

    use crate::storage::columns::{HeaderPairs, JsonText};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub source_id: SourceId,
        pub received_at: i64,
        pub method: String,
        /// Header pairs in the order received.
        pub headers: JsonText<HeaderPairs>,
        pub body: Vec<u8>,
        pub content_type: Option<String>,
        pub remote_addr: Option<String>,
        pub event_type: Option<String>,
        pub delivery_id: Option<String>,
        pub verification: String,
        /// What its handlers made of it: `none`, `pending`, `ok` or `failed`.
        pub handling: crate::storage::states::Handling,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refused_request {
    use sea_orm::entity::prelude::*;

    use crate::ids::SourceId;

    use crate::storage::columns::{HeaderPairs, JsonText};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refused_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub source_id: SourceId,
        pub received_at: i64,
        /// What kind of refusal (`signature_mismatch`, …); none for those before it was kept.
        pub kind: Option<String>,
        pub reason: String,
        pub remote_addr: Option<String>,
        pub headers: JsonText<HeaderPairs>,
        pub body_prefix: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod handler {
    use sea_orm::entity::prelude::*;

    use crate::ids::{HandlerId, SourceId};

    use crate::storage::columns::JsonText;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handlers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: HandlerId,
        /// `None` for a global handler.
        pub source_id: Option<SourceId>,
        pub position: i32,
        pub kind: String,
        /// Event-type patterns; empty means every event.
        pub event_types: JsonText<Vec<String>>,
        pub config: JsonText<serde_json::Value>,
        pub created_at: i64,
        /// A disabled handler runs for no event.
        pub enabled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod handler_run {
    use sea_orm::entity::prelude::*;

    use crate::ids::HandlerId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handler_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub event_id: i64,
        pub handler_id: HandlerId,
        pub handler_kind: String,
        pub position: i32,
        /// `pending`, `ok` or `failed` (given up).
        pub status: crate::storage::states::RunStatus,
        pub attempts: i32,
        pub next_at: i64,
        /// Set while a worker runs it; a crash leaves it to lapse, so the run happens again.
        pub leased_until: Option<i64>,
        /// The node id of the hub holding the lease.
        pub leased_by: Option<String>,
        pub outcome: Option<String>,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event_type {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "event_types")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub description: String,
        pub deprecated: bool,
        pub created_at: i64,
        /// An example payload, as JSON text.
        pub example: Option<String>,
        /// A JSON Schema (draft 2020-12) its payloads must match, as JSON text.
        pub schema: Option<String>,
        /// `enforce` (refuse a payload that does not match) or `warn` (publish it, flagged).
        pub schema_mode: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod subscription {
    use sea_orm::entity::prelude::*;

    use crate::ids::SubscriptionId;

    use crate::storage::columns::JsonText;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: SubscriptionId,
        pub url: String,
        pub description: String,
        /// Names and patterns.
        pub event_types: JsonText<Vec<String>>,
        /// A condition on the payload ([`crate::sending::payload_filter`]), or none.
        pub payload_filter: Option<String>,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_secret_until: Option<i64>,
        /// Extra headers, by lowercase name.
        pub headers: JsonText<std::collections::BTreeMap<String, String>>,
        /// Extra properties.
        pub properties: JsonText<serde_json::Map<String, serde_json::Value>>,
        pub mode: crate::storage::states::SigningMode,
        pub state: crate::storage::states::SubscriptionState,
        pub disabled_reason: Option<String>,
        pub disabled_at: Option<i64>,
        pub failing_since: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
        /// The consumer it belongs to: it receives only messages addressed to them.
        pub consumer_id: Option<String>,
        /// With no consumer: it also receives messages addressed to any consumer.
        pub all_consumers: bool,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Subscription")
                .field("id", &self.id)
                .field("url", &self.url)
                .field("secret", &"[redacted]")
                .field("state", &self.state)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notice {
    use sea_orm::entity::prelude::*;

    use crate::ids::SubscriptionId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub subscription_id: SubscriptionId,
        /// `quarter`, `half`, `three_quarters` or `disabled`.
        pub stage: String,
        /// When the streak of failures it is about began.
        pub failing_since: i64,
        pub message: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    use sea_orm::entity::prelude::*;

    use crate::ids::MessageId;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: MessageId,
        pub event_type: String,
        pub payload: String,
        pub idempotency_key: Option<String>,
        pub created_at: i64,
        /// Where the payload does not match its type's schema in `warn` mode, as a JSON list
        /// of `{path, message}`.
        pub schema_errors: Option<String>,
        /// The consumer it was addressed to, if any.
        pub consumer_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;

    use crate::ids::{MessageId, SubscriptionId};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub message_id: MessageId,
        pub subscription_id: SubscriptionId,
        pub event_type: String,
        pub status: crate::storage::states::DeliveryStatus,
        pub attempts: i32,
        pub next_attempt_at: i64,
        pub leased_until: Option<i64>,
        /// The node id of the hub holding the lease.
        pub leased_by: Option<String>,
        pub last_status: Option<i32>,
        pub last_error: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attempt {
    use sea_orm::entity::prelude::*;

    use crate::storage::columns::{HeaderPairs, JsonText};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub delivery_id: i64,
        pub started_at: i64,
        pub duration_ms: i64,
        pub request_headers: JsonText<HeaderPairs>,
        pub response_status: Option<i32>,
        pub response_headers: Option<JsonText<HeaderPairs>>,
        pub response_body: Option<Vec<u8>>,
        pub error: Option<String>,
        /// The exact body sent, where the message alone cannot rebuild it (ASP.NET mode).
        pub request_body: Option<Vec<u8>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod milestone {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "milestones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub reached_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lead {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "leads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub job: String,
        pub held_by: String,
        pub until: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod hub {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "hubs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub node_id: String,
        pub version: String,
        pub started_at: i64,
        pub last_seen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod login_failure {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_failures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub failures: i32,
        pub last_attempt: i64,
        pub locked_until: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod consumer {
    use sea_orm::entity::prelude::*;

    use crate::storage::columns::JsonText;

    #[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consumers")]
    pub struct Model {
        /// Chosen by the publisher, such as `acme`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub metadata: JsonText<serde_json::Map<String, serde_json::Value>>,
        /// The portal's links and sessions are valid under this key only: a new one ends them.
        pub portal_key: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Consumer")
                .field("id", &self.id)
                .field("name", &self.name)
                .field("portal_key", &"[redacted]")
                .finish()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod portal_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "portal_tokens")]
    pub struct Model {
        /// SHA-256 of the token, hex: the token itself is never stored.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub consumer_id: String,
        /// The consumer's portal key when it was issued.
        pub portal_key: String,
        /// `link` (single use, signs in) or `session`.
        pub kind: String,
        pub expires_at: i64,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
