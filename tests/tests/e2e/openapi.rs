//! The OpenAPI document at `GET /v1/openapi.json`, against the node that serves it: it is
//! OpenAPI 3, it documents exactly the routes the node mounts, every operation declares
//! its responses and, when it refuses anonymous callers, its security, and real answers
//! have the documented shapes.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vitrine_gateway::routes::mounted;
use vitrine_tests::call::{push_card, Call};
use vitrine_tests::http::{Answer, Api};
use vitrine_tests::node::TestNode;

/// The operation keys of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Fetches the document and checks that it is OpenAPI 3 JSON with an info and paths.
async fn document(api: &Api) -> Value {
    let resp = reqwest::get(format!("{}/v1/openapi.json", api.base()))
        .await
        .expect("request reaches the server");
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "served as {content_type:?}"
    );
    let doc: Value = resp.json().await.expect("the document is JSON");
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi is {:?}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Vitrine");
    assert!(
        doc["info"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "info has no version: {:?}",
        doc["info"]
    );
    assert!(
        doc["paths"].as_object().is_some_and(|p| !p.is_empty()),
        "the document has no paths"
    );
    doc
}

/// Every operation of the document by `(METHOD, path)`.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.insert((method.to_uppercase(), path.clone()), op);
            }
        }
    }
    ops
}

/// One `METHOD path` per line, for failure messages.
fn listed<'a>(routes: impl IntoIterator<Item = &'a (String, String)>) -> String {
    let lines: Vec<String> = routes
        .into_iter()
        .map(|(method, path)| format!("  {method} {path}"))
        .collect();
    if lines.is_empty() {
        "  (none)".into()
    } else {
        lines.join("\n")
    }
}

/// The document lists every route the node mounts, and nothing else: a handler added
/// without an annotation, or an annotation left behind by a removed route, fails here.
#[actix_web::test]
async fn the_document_lists_exactly_the_mounted_routes() {
    // Arrange
    let node = TestNode::start().await;
    let served: BTreeSet<(String, String)> = mounted()
        .iter()
        .map(|route| (route.method.to_string(), route.template()))
        .collect();

    // Act
    let doc = document(&node.api).await;

    // Assert
    let documented: BTreeSet<(String, String)> = operations(&doc).into_keys().collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unmounted.is_empty(),
        "mounted but not documented:\n{}\ndocumented but not mounted:\n{}",
        listed(undocumented),
        listed(unmounted)
    );
}

/// Each `$ref` string anywhere under `value`.
fn references<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => out.push(target),
                    _ => references(item, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

/// The document holds together: references resolve, every operation has a unique id,
/// declared tags, at least one response (each with a description) and a parameter for
/// each `{name}` of its path.
#[actix_web::test]
async fn every_operation_is_complete_and_every_reference_resolves() {
    // Arrange
    let node = TestNode::start().await;

    // Act
    let doc = document(&node.api).await;

    // Assert
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    for target in refs {
        let resolves = target
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .is_some();
        if !resolves {
            problems.push(format!("$ref {target} does not resolve"));
        }
    }
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| tag["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for ((method, path), op) in operations(&doc) {
        let at = format!("{method} {path}");
        match op["operationId"].as_str() {
            Some(id) if ids.insert(id.to_owned()) => {}
            Some(id) => problems.push(format!("{at}: operationId {id} is used twice")),
            None => problems.push(format!("{at}: no operationId")),
        }
        let op_tags: Vec<&str> = op["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if op_tags.is_empty() {
            problems.push(format!("{at}: no tag"));
        }
        for tag in op_tags.iter().filter(|t| !tags.contains(*t)) {
            problems.push(format!("{at}: tag {tag} is not declared"));
        }
        match op["responses"].as_object() {
            Some(responses) if !responses.is_empty() => {
                for (status, response) in responses {
                    if response["description"].as_str().is_none() {
                        problems.push(format!("{at}: response {status} has no description"));
                    }
                }
            }
            _ => problems.push(format!("{at}: no responses")),
        }
        let path_params: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            if !path_params.contains(name) {
                problems.push(format!("{at}: no required path parameter {name}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The document's path with each `{name}` filled with `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |i| open + i + 1);
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Whether an operation requires credentials: some security requirement, none of them
/// empty (an empty one makes credentials optional).
fn requires_credentials(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| {
        !reqs.is_empty()
            && reqs
                .iter()
                .all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    })
}

/// Security is declared exactly where the node refuses anonymous callers: every operation
/// is called without credentials (with its documented JSON body example, if any), and
/// answers `401` if and only if it declares security and documents that `401`. Security
/// requirements name declared schemes, and staff requirements name modules.
#[actix_web::test]
async fn operations_that_refuse_anonymous_callers_declare_security() {
    // Arrange
    let node = TestNode::start().await;
    let doc = document(&node.api).await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("the document declares security schemes");
    let modules = doc["components"]["schemas"]["Module"]["enum"]
        .as_array()
        .expect("the document lists the modules");
    let client = reqwest::Client::new();

    // Act
    let mut answers = Vec::new();
    for ((method, path), op) in operations(&doc) {
        let url = format!("{}{}", node.api.base(), fill(&path, "probe"));
        let mut req = client.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(example) = op
            .pointer("/requestBody/content/application~1json/example")
            .cloned()
        {
            req = req.json(&example);
        }
        let resp = req.send().await.expect("request reaches the server");
        answers.push(((method, path), op, resp.status()));
    }

    // Assert
    let mut problems = Vec::new();
    for ((method, path), op, status) in answers {
        let at = format!("{method} {path}");
        let declares = requires_credentials(op);
        let documents_401 = op["responses"].get("401").is_some();
        match (status == StatusCode::UNAUTHORIZED, declares) {
            (true, false) => problems.push(format!(
                "{at}: refuses anonymous callers (401) but declares no security"
            )),
            (false, true) => problems.push(format!(
                "{at}: declares security but answered {status} without credentials"
            )),
            _ => {}
        }
        if declares != documents_401 {
            problems.push(format!(
                "{at}: security declared: {declares}, 401 documented: {documents_401}"
            ));
        }
        for requirement in op["security"].as_array().into_iter().flatten() {
            for (scheme, scopes) in requirement.as_object().into_iter().flatten() {
                if !schemes.contains_key(scheme) {
                    problems.push(format!("{at}: security scheme {scheme} is not declared"));
                }
                if scheme == "staff_token" {
                    for scope in scopes.as_array().into_iter().flatten() {
                        if !modules.contains(scope) {
                            problems.push(format!("{at}: {scope} is not a module"));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `value` is of the JSON Schema type `name`.
fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// Checks `value` against `schema`: references, `oneOf`/`anyOf`/`allOf`, types, enums,
/// required and undocumented properties, array items and map values. Formats and bounds
/// are not checked. Problems go to `problems`, each prefixed with where in the value.
fn check_shape(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        match target.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(resolved) => check_shape(doc, resolved, value, at, problems),
            None => problems.push(format!("{at}: $ref {target} does not resolve")),
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[key].as_array() {
            let fits = branches.iter().any(|branch| {
                let mut found = Vec::new();
                check_shape(doc, branch, value, at, &mut found);
                found.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: {value} matches no branch of {key}"));
            }
        }
    }
    for branch in schema["allOf"].as_array().into_iter().flatten() {
        check_shape(doc, branch, value, at, problems);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| is_type(value, t)) {
        problems.push(format!("{at}: {value} is not of type {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = name.as_str().filter(|n| !object.contains_key(*n)) {
                problems.push(format!("{at}: required {name} is missing"));
            }
        }
        let properties = schema["properties"].as_object();
        let extra = &schema["additionalProperties"];
        for (key, item) in object {
            let here = format!("{at}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(property) => check_shape(doc, property, item, &here, problems),
                None if extra.is_object() => check_shape(doc, extra, item, &here, problems),
                None if properties.is_some() && extra != &Value::Bool(true) => {
                    problems.push(format!("{here} is not documented"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check_shape(doc, schema, item, &format!("{at}[{i}]"), problems);
        }
    }
}

/// Checks an answer of `method path` against the document's schema for its status.
fn expect_documented(
    doc: &Value,
    method: &str,
    path: &str,
    answer: &Answer,
    problems: &mut Vec<String>,
) {
    let at = format!("{method} {path} {}", answer.status.as_u16());
    let Some(op) = doc["paths"][path].get(method.to_lowercase()) else {
        problems.push(format!("{method} {path}: the operation is not documented"));
        return;
    };
    let Some(response) = op["responses"].get(answer.status.as_str()) else {
        problems.push(format!(
            "{at}: the status is not documented ({:?})",
            answer.body
        ));
        return;
    };
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        problems.push(format!("{at}: no JSON schema is documented"));
        return;
    };
    check_shape(doc, schema, &answer.body, &at, problems);
}

/// `GET path` with an optional bearer token.
async fn get(api: &Api, path: &str, token: Option<&str>) -> Answer {
    api.call(Method::GET, path, token, None).await
}

/// One answer to check: the documented operation, the status meant, and what came back.
struct Checked {
    method: &'static str,
    path: &'static str,
    expected: u16,
    answer: Answer,
}

/// Real answers have the documented shapes: a live call with a card and a chat line, and
/// then every JSON operation of the API, with successes and some failures.
#[actix_web::test]
async fn answers_have_the_documented_shapes() {
    // Arrange
    let node = TestNode::start().await;
    let api = &node.api;
    let admin = Some(node.admin());
    let doc = document(api).await;
    let mut live = Call::start(api, node.admin()).await;
    let pushed = live.shopper.command(push_card("Try this one")).await;
    assert!(pushed.ok, "{pushed:?}");
    let said = live
        .customer
        .command(json!({"type": "chat.send", "text": "Hola"}))
        .await;
    assert!(said.ok, "{said:?}");
    let session = live.session_id.clone();

    // Act
    let mut checked = Vec::new();
    let mut check = |method, path, expected, answer| {
        checked.push(Checked {
            method,
            path,
            expected,
            answer,
        })
    };
    check("GET", "/healthz", 200, get(api, "/healthz", None).await);
    check("GET", "/readyz", 200, get(api, "/readyz", None).await);
    let shopper = json!({"name": "Marta Ruiz", "email": "marta.shapes@example.com"});
    let created = api
        .call(Method::POST, "/v1/shoppers", admin, Some(shopper))
        .await;
    let shopper_id = created.body["shopper_id"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    check("POST", "/v1/shoppers", 201, created);
    let tokens = format!("/v1/shoppers/{shopper_id}/tokens");
    let token = api
        .call(Method::POST, &tokens, admin, Some(json!({})))
        .await;
    check("POST", "/v1/shoppers/{id}/tokens", 201, token);
    let missing = "/v1/shoppers/usr_none/tokens";
    let missing = api.call(Method::POST, missing, admin, None).await;
    check("POST", "/v1/shoppers/{id}/tokens", 404, missing);
    check(
        "GET",
        "/v1/shoppers",
        200,
        get(api, "/v1/shoppers", admin).await,
    );
    check(
        "GET",
        "/v1/shoppers",
        401,
        get(api, "/v1/shoppers", None).await,
    );
    let widget = reqwest::Client::new()
        .post(format!("{}/v1/sessions", api.base()))
        .header("X-Vitrine-Key", "pk_demo")
        .json(&json!({"customer": {"name": "Zoë Ångström"}}))
        .send()
        .await
        .expect("request reaches the server");
    let widget = Answer {
        status: widget.status(),
        body: widget.json().await.unwrap_or(Value::Null),
    };
    check("POST", "/v1/sessions", 201, widget);
    let state = get(api, &format!("/v1/sessions/{session}"), admin).await;
    check("GET", "/v1/sessions/{id}", 200, state);
    let unknown = get(api, "/v1/sessions/ses_none", admin).await;
    check("GET", "/v1/sessions/{id}", 404, unknown);
    check(
        "GET",
        "/v1/sessions",
        200,
        get(api, "/v1/sessions", admin).await,
    );
    let bad_limit = get(api, "/v1/sessions?limit=0", admin).await;
    check("GET", "/v1/sessions", 400, bad_limit);
    let events = get(api, &format!("/v1/sessions/{session}/events"), admin).await;
    check("GET", "/v1/sessions/{id}/events", 200, events);
    let transcript = get(
        api,
        &format!("/v1/sessions/{session}/transcript?format=json"),
        admin,
    )
    .await;
    check("GET", "/v1/sessions/{id}/transcript", 200, transcript);
    let invite = json!({"role": "observer", "name": "Laia Puig"});
    let invite_path = format!("/v1/sessions/{session}/participants");
    let invited = api
        .call(Method::POST, &invite_path, admin, Some(invite))
        .await;
    check("POST", "/v1/sessions/{id}/participants", 201, invited);
    let products = get(api, "/v1/catalog/products?q=mug", admin).await;
    check("GET", "/v1/catalog/products", 200, products);
    // A file without the `Variant Price` column cannot be read at all.
    let broken = b"Handle,Title\nmug,Mug\n".to_vec();
    let import = api
        .post_raw("/v1/catalog/import", node.admin(), "text/csv", broken)
        .await;
    check("POST", "/v1/catalog/import", 422, import);

    // Assert
    let mut problems = Vec::new();
    for c in &checked {
        if c.answer.status.as_u16() != c.expected {
            problems.push(format!(
                "{} {}: expected {}, got {} ({:?})",
                c.method,
                c.path,
                c.expected,
                c.answer.status.as_u16(),
                c.answer.body
            ));
            continue;
        }
        expect_documented(&doc, c.method, c.path, &c.answer, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
