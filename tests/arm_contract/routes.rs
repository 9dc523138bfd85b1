//! Every request: the token endpoint, or Resource Manager's gate (bearer
//! token, api-version, injected throttling and outages, denied actions)
//! and then the resource the path names. Literal path segments are matched
//! without regard to case, as ARM does.

use super::http::{Reply, Request};
use super::model::{API_VERSION, State};
use super::{databases, operations, token, transfer};
use serde_json::json;

/// What a path names.
enum Route {
    Subscriptions,
    Subscription(String),
    ServersInSubscription(String),
    ServersInGroup(String, String),
    Server(String, String, String),
    Databases(String, String, String),
    Database(String, String, String, String),
    Export(String, String, String, String),
    Import(String, String, String),
    Operation {
        sub: String,
        location: String,
        kind: String,
        id: String,
    },
    Unknown,
}

impl Route {
    fn parse(s: &[String]) -> Route {
        let is = |i: usize, w: &str| s.get(i).is_some_and(|x| x.eq_ignore_ascii_case(w));
        let n = s.len();
        if !is(0, "subscriptions") {
            return Route::Unknown;
        }
        match n {
            1 => return Route::Subscriptions,
            2 => return Route::Subscription(s[1].clone()),
            _ => {}
        }
        let sub = s[1].clone();
        if is(2, "providers") && is(3, "Microsoft.Sql") {
            if n == 5 && is(4, "servers") {
                return Route::ServersInSubscription(sub);
            }
            if n == 8 && is(4, "locations") {
                return Route::Operation {
                    sub,
                    location: s[5].clone(),
                    kind: s[6].clone(),
                    id: s[7].clone(),
                };
            }
            return Route::Unknown;
        }
        if !(is(2, "resourceGroups") && is(4, "providers") && is(5, "Microsoft.Sql")) {
            return Route::Unknown;
        }
        let rg = s[3].clone();
        if !is(6, "servers") {
            return Route::Unknown;
        }
        match n {
            7 => Route::ServersInGroup(sub, rg),
            8 => Route::Server(sub, rg, s[7].clone()),
            9 if is(8, "databases") => Route::Databases(sub, rg, s[7].clone()),
            9 if is(8, "import") => Route::Import(sub, rg, s[7].clone()),
            10 if is(8, "databases") => Route::Database(sub, rg, s[7].clone(), s[9].clone()),
            11 if is(8, "databases") && is(10, "export") => {
                Route::Export(sub, rg, s[7].clone(), s[9].clone())
            }
            _ => Route::Unknown,
        }
    }

    /// Resource Manager's own routes, outside any provider.
    fn is_resource_manager(&self) -> bool {
        matches!(self, Route::Subscriptions | Route::Subscription(_))
    }
}

pub fn handle(state: &mut State, rq: &Request) -> Reply {
    if !rq.is_arm() {
        return token::issue(state, rq);
    }
    if let Err(r) = authenticate(state, rq) {
        return r;
    }
    let route = Route::parse(&rq.segments());
    if let Err(r) = check_api_version(rq, &route) {
        return r;
    }
    if state.faults.throttle > 0 {
        state.faults.throttle -= 1;
        return Reply::error(
            429,
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - 'Read_ObservationWindow_00:05:00'. Please retry after 1 seconds.",
        )
        .with("Retry-After", "1");
    }
    if state.faults.unavailable > 0 {
        state.faults.unavailable -= 1;
        return Reply::error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry the request.",
        )
        .with("Retry-After", "1");
    }
    if let Some(r) = denied(state, rq) {
        return r;
    }
    dispatch(state, rq, route)
}

fn authenticate(state: &State, rq: &Request) -> Result<(), Reply> {
    let fail = |code: &str, message: &str| {
        Reply::error(401, code, message).with(
            "WWW-Authenticate",
            format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/{}\", error=\"invalid_token\", error_description=\"{message}\"",
                state.tenant_id
            ),
        )
    };
    let Some(header) = rq.header("Authorization") else {
        return Err(fail(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let token = match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("Bearer") => t.trim(),
        _ => {
            return Err(fail(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            ));
        }
    };
    if token == state.token {
        Ok(())
    } else if token.starts_with(&format!("{}.aud-", state.token)) {
        Err(fail(
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
        ))
    } else {
        Err(fail(
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ))
    }
}

fn check_api_version(rq: &Request, route: &Route) -> Result<(), Reply> {
    let Some(v) = rq.query_param("api-version") else {
        return Err(Reply::error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let date_shaped = v.len() >= 10
        && v[..10].bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
        && (v.len() == 10 || v[10..].starts_with("-preview"));
    if route.is_resource_manager() && date_shaped {
        return Ok(());
    }
    if !date_shaped {
        return Err(Reply::error(
            400,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{API_VERSION}'."
            ),
        ));
    }
    // The contract emulated here is Microsoft.Sql's 2025-01-01 and no other.
    if v != API_VERSION {
        return Err(Reply::error(
            400,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location 'westeurope' and API version '{v}' for type 'servers'. The supported api-versions are '{API_VERSION}'."
            ),
        ));
    }
    Ok(())
}

/// 403 for a request a `deny` rule matches, worded as ARM words it.
fn denied(state: &State, rq: &Request) -> Option<Reply> {
    let path = rq.path.to_ascii_lowercase();
    let hit =
        state.faults.denied.iter().any(|(m, p)| {
            m.eq_ignore_ascii_case(&rq.method) && path.contains(&p.to_ascii_lowercase())
        });
    if !hit {
        return None;
    }
    Some(Reply::error(
        403,
        "AuthorizationFailed",
        format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{}' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            state.client_id,
            state.object_id,
            action(rq),
            rq.path
        ),
    ))
}

/// The RBAC action of a request: `Microsoft.Sql/servers/databases/delete`,
/// `…/export/action`, …
fn action(rq: &Request) -> String {
    let s = rq.segments();
    let Some(p) = s.iter().position(|x| x.eq_ignore_ascii_case("providers")) else {
        return "Microsoft.Resources/subscriptions/read".into();
    };
    let Some(namespace) = s.get(p + 1) else {
        return "Microsoft.Resources/subscriptions/read".into();
    };
    // Type names and then names alternate after the namespace.
    let types: Vec<&str> = s[p + 2..].iter().step_by(2).map(String::as_str).collect();
    let verb = match rq.method.as_str() {
        "POST" => "action",
        "PUT" | "PATCH" => "write",
        "DELETE" => "delete",
        _ => "read",
    };
    let canonical = |w: &str| {
        CANONICAL
            .iter()
            .find(|c| c.eq_ignore_ascii_case(w))
            .map_or_else(|| w.to_string(), |c| c.to_string())
    };
    let types: Vec<String> = types.into_iter().map(canonical).collect();
    format!("{}/{}/{verb}", canonical(namespace), types.join("/"))
}

/// How ARM spells the namespace and types in action names, whatever the
/// request's spelling.
const CANONICAL: [&str; 10] = [
    "Microsoft.Sql",
    "servers",
    "databases",
    "export",
    "import",
    "locations",
    "databaseAzureAsyncOperation",
    "databaseOperationResults",
    "importExportAzureAsyncOperation",
    "importExportOperationResults",
];

fn dispatch(state: &mut State, rq: &Request, route: Route) -> Reply {
    let method = rq.method.as_str();
    let wrong = || {
        Reply::error(
            405,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        )
    };
    let done = |r: Result<Reply, Reply>| r.unwrap_or_else(|e| e);
    match (route, method) {
        (Route::Subscriptions, "GET") => {
            let value: Vec<_> = state
                .subscriptions()
                .iter()
                .map(|s| subscription_json(state, s))
                .collect();
            Reply::json(200, json!({ "value": value }))
        }
        (Route::Subscription(sub), "GET") => done(
            state
                .find_subscription(&sub)
                .map(|s| Reply::json(200, subscription_json(state, &s))),
        ),
        (Route::ServersInSubscription(sub), "GET") => {
            done(state.find_subscription(&sub).map(|_| {
                let value: Vec<_> = state
                    .servers
                    .iter()
                    .filter(|s| s.subscription.eq_ignore_ascii_case(&sub))
                    .map(|s| s.json())
                    .collect();
                Reply::json(200, json!({ "value": value }))
            }))
        }
        (Route::ServersInGroup(sub, rg), "GET") => done(state.find_group(&sub, &rg).map(|_| {
            let value: Vec<_> = state
                .servers
                .iter()
                .filter(|s| {
                    s.subscription.eq_ignore_ascii_case(&sub)
                        && s.resource_group.eq_ignore_ascii_case(&rg)
                })
                .map(|s| s.json())
                .collect();
            Reply::json(200, json!({ "value": value }))
        })),
        (Route::Server(sub, rg, server), "GET") => done(
            state
                .find_server(&sub, &rg, &server)
                .map(|s| Reply::json(200, s.json())),
        ),
        (Route::Databases(sub, rg, server), "GET") => {
            done(state.find_server(&sub, &rg, &server).map(|s| {
                let value: Vec<_> = s.databases.iter().map(|d| s.database_json(d)).collect();
                Reply::json(200, json!({ "value": value }))
            }))
        }
        (Route::Database(sub, rg, server, db), "GET") => done(
            state
                .find_database(&sub, &rg, &server, &db)
                .map(|(s, d)| Reply::json(200, s.database_json(d))),
        ),
        (Route::Database(sub, rg, server, db), "PUT") => {
            databases::put(state, rq, &sub, &rg, &server, &db)
        }
        (Route::Database(sub, rg, server, db), "DELETE") => {
            databases::delete(state, &sub, &rg, &server, &db)
        }
        (Route::Export(sub, rg, server, db), "POST") => {
            transfer::export(state, rq, &sub, &rg, &server, &db)
        }
        (Route::Import(sub, rg, server), "POST") => transfer::import(state, rq, &sub, &rg, &server),
        (
            Route::Operation {
                sub,
                location,
                kind,
                id,
            },
            "GET",
        ) => operations::poll(state, &sub, &location, &kind, &id),
        (Route::Unknown, _) => Reply::error(
            404,
            "InvalidResourceType",
            format!(
                "The resource type of '{}' could not be found in the namespace 'Microsoft.Sql' for api version '{API_VERSION}'.",
                rq.path
            ),
        ),
        _ => wrong(),
    }
}

fn subscription_json(state: &State, sub: &str) -> serde_json::Value {
    json!({
        "id": format!("/subscriptions/{sub}"),
        "subscriptionId": sub,
        "tenantId": state.tenant_id,
        "displayName": format!("Test subscription {sub}"),
        "state": "Enabled",
    })
}
