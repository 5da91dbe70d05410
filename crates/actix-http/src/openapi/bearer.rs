//! The `BearerAuth` scheme's description (access tokens and API keys, with every scope) and the
//! scope each operation needs from a key (`x-api-key-scope`), written from the one scope table.

use hexgate_domain::api_key::Scope;
use serde_json::{Value, json};

use crate::extract::scopes::{Need, need_of};

fn description() -> String {
    let mut text = String::from(
        "An access token (a JWT from `POST /api/v1/auth/token`), or an API key (`hgk_…`, from \
         `POST /api/v1/auth/api-keys`), as `Authorization: Bearer <token or key>`. A key may do \
         what its scopes allow, intersected with its owner's permissions at the time of use; a \
         request its scopes do not cover is 403 `insufficient_scope`, and a key can never manage \
         credentials (API keys, password, sessions, logout, verification) or read the audit log. \
         Each operation names the scope a key needs in `x-api-key-scope` (absent: no key may call \
         it). A `:write` scope includes the `:read` of the same resource.\n\nScopes:\n",
    );
    for scope in Scope::ALL {
        text.push_str(&format!("- `{}`: {}\n", scope.as_str(), scope.describe()));
    }
    text
}

/// Fills in the scheme's description and each secured operation's scope.
pub(crate) fn describe(doc: &mut Value) {
    if let Some(scheme) = doc.pointer_mut("/components/securitySchemes/BearerAuth").and_then(Value::as_object_mut) {
        scheme.insert("description".into(), description().into());
        let scopes: Vec<Value> =
            Scope::ALL.iter().map(|s| json!({"name": s.as_str(), "description": s.describe()})).collect();
        scheme.insert("x-api-key-scopes".into(), scopes.into());
    }
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            let need = match need_of(method, path) {
                Some(Need::Scope(scope)) => json!(scope.as_str()),
                Some(Need::OwnOrOthers { own, others }) => {
                    json!({"own": own.as_str(), "others": others.as_str()})
                }
                None => continue,
            };
            op.insert("x-api-key-scope".into(), need);
        }
    }
}
