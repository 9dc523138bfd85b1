//! The App Service managed identity endpoint (IDENTITY_ENDPOINT), as
//! azure_identity 1.x's ManagedIdentityCredential calls it: `GET
//! ?api-version=2019-08-01&resource=R` (plus `client_id`, `object_id` or
//! `msi_res_id` for a user-assigned identity) with the secret in
//! `X-IDENTITY-HEADER`. It answers `access_token`, `expires_on` as a string
//! of epoch seconds (the credential parses exactly that), `resource` and
//! `token_type`.

use super::http::{Reply, Request};
use super::model::State;
use serde_json::json;

pub const PATH: &str = "/msi/token";

/// The audiences Resource Manager accepts, as ARM lists them.
pub const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// A token for another audience: issued, but refused by ARM, which checks
/// that a token was obtained for it.
pub fn foreign_token(state: &State, resource: &str) -> String {
    let tag = hex::encode(&blake3::hash(resource.as_bytes()).as_bytes()[..8]);
    format!("{}.aud-{tag}", state.token)
}

pub fn issue(state: &State, rq: &Request) -> Reply {
    if rq.method != "GET" {
        return Reply::json(
            405,
            json!({"error": "invalid_request", "error_description": "only GET is supported"}),
        );
    }
    if rq.header("X-IDENTITY-HEADER") != Some(super::ArmServer::IDENTITY_HEADER) {
        return Reply::json(
            401,
            json!({"statusCode": 401, "message": "Unauthorized: the X-IDENTITY-HEADER header is missing or wrong."}),
        );
    }
    if rq.query_param("api-version").as_deref() != Some("2019-08-01") {
        return Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "api-version must be 2019-08-01"}),
        );
    }
    let Some(resource) = rq.query_param("resource").filter(|r| !r.is_empty()) else {
        return Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "the resource parameter is required"}),
        );
    };
    let access_token = if ARM_AUDIENCES.contains(&resource.as_str()) {
        state.token.clone()
    } else {
        foreign_token(state, &resource)
    };
    let expires_on = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    Reply::json(
        200,
        json!({
            "access_token": access_token,
            "expires_on": expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": state.client_id,
        }),
    )
}
