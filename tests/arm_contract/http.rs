//! What went over the wire: the request as received (kept whole for the
//! tests to inspect) and the reply before it is written, with ARM's error
//! shape.

use serde_json::{Value, json};

/// One request the server received, exactly as sent: nothing is redacted,
/// since the tests check what the client put in it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query, as sent (not percent-decoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status code the server answered with.
    pub status: u16,
}

impl Request {
    pub(super) fn read(rq: &mut tiny_http::Request) -> Request {
        let url = rq.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let mut body = Vec::new();
        let _ = rq.as_reader().read_to_end(&mut body);
        Request {
            method: rq.method().as_str().to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: rq
                .headers()
                .iter()
                .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            status: 0,
        }
    }

    /// A header by name, compared without regard to case as HTTP does.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The path's segments, percent-decoded, without empty ones.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// Whether this went to Resource Manager (not to the token endpoint).
    pub fn is_arm(&self) -> bool {
        !self.path.starts_with(super::token::PATH)
    }
}

/// A reply about to be written.
#[derive(Debug)]
pub(super) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(&v).expect("JSON serialises"),
        }
    }

    /// ARM's error shape, the same for every provider and the gateway.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": code, "message": message.into()}}),
        )
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(super) fn into_response(self) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut r = tiny_http::Response::from_data(self.body).with_status_code(self.status);
        for (k, v) in self.headers {
            r.add_header(tiny_http::Header::from_bytes(k, v).expect("ASCII header"));
        }
        r
    }
}

/// The JSON body of a PUT or POST: ARM refuses anything that does not
/// parse, or is not an object, before looking at it.
pub(super) fn body_object(rq: &Request) -> Result<serde_json::Map<String, Value>, Reply> {
    match serde_json::from_str::<Value>(&rq.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Reply::error(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        )),
        Err(e) => Err(Reply::error(
            400,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )),
    }
}

/// A required string property of a request body.
pub(super) fn required<'a>(
    body: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, Reply> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(Reply::error(
            400,
            "MissingRequiredParameter",
            format!("The request is missing the required parameter '{name}'."),
        )),
        Some(other) => Err(Reply::error(
            400,
            "InvalidParameterValue",
            format!("The value '{other}' of parameter '{name}' is not a string."),
        )),
    }
}

/// An optional string property (absent or null is `None`).
pub(super) fn optional<'a>(
    body: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, Reply> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Reply::error(
            400,
            "InvalidParameterValue",
            format!("The value '{other}' of parameter '{name}' is not a string."),
        )),
    }
}
