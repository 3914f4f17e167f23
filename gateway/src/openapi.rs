//! The public API's OpenAPI 3.1 document, generated from the handlers of every service
//! and of the gateway itself.

use std::sync::OnceLock;

use axum::Router;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, ServerBuilder};
use utoipa_scalar::{Scalar, Servable};

#[derive(OpenApi)]
#[openapi(paths(
    crate::compose::overview,
    crate::compose::session_detail,
    crate::export::export
))]
struct GatewayDoc;

/// Every public call, with the bearer scheme and the API's description.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = GatewayDoc::openapi();
    doc.merge(clmb_users::openapi());
    doc.merge(clmb_gyms::openapi());
    doc.merge(clmb_sessions::openapi());
    doc.info = InfoBuilder::new()
        .title("clmb API")
        .version("1")
        .description(Some(
            "Every climb a climber makes. Errors are application/problem+json (RFC 9457). \
             Lists page with `limit` (1..100) and `cursor`. `me` in a path means the caller.",
        ))
        .build();
    doc.servers = Some(vec![ServerBuilder::new().url("/").build()]);
    let bearer = SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build(),
    );
    let components = doc
        .components
        .get_or_insert_with(|| ComponentsBuilder::new().build());
    components
        .security_schemes
        .insert("bearer".to_owned(), bearer.into());
    describe_responses(&mut doc);
    doc
}

/// OpenAPI 3.1 requires a `description` on every response, and utoipa leaves it empty
/// (so omits it) where a handler's `responses(...)` gives none; use the status's reason
/// phrase there ("Not Found"), so the document validates.
fn describe_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}

fn cached() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".to_owned()))
}

pub async fn serve_document() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        cached(),
    )
}

/// A browsable page of the document at `/docs`.
pub fn docs_page<S: Clone + Send + Sync + 'static>(doc: utoipa::openapi::OpenApi) -> Router<S> {
    Router::new().merge(Scalar::with_url("/docs", doc))
}
