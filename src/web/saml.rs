//! The SAML 2.0 service provider's HTTP edge. Today: the SP metadata per pool,
//! `GET /saml2/metadata/<poolId>` (SAML 2.0 Metadata section 4.1, well-known location
//! left to the deployment), which an operator gives the IdP. The assertion consumer
//! service it names is `<public URL>/saml2/idpresponse`, Cognito's path, and its single
//! logout service `<public URL>/saml2/logout` (served by [`super::hosted::saml_logout`]).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::core::ids::is_valid_pool_id;
use crate::federation::saml::logout::SLO_PATH;
use crate::federation::saml::sp::{sp_metadata, METADATA_CONTENT_TYPE};

/// The assertion consumer service's path (Cognito's), under the public URL.
pub const ACS_PATH: &str = "/saml2/idpresponse";

/// `GET /saml2/metadata/{pool_id}`: the pool's SP metadata, naming its entity id, the ACS
/// and the certificates of its signing keys (the pool's first key is made on the first
/// request). An unknown pool is a 404.
pub async fn metadata(
    State(state): State<AppState>,
    Path(pool_id): Path<String>,
) -> Result<Response, ApiError> {
    let pool = match is_valid_pool_id(&pool_id) {
        true => state.node.store.get_pool(&pool_id).await?,
        false => None,
    };
    let Some(pool) = pool else {
        return Err(ApiError::not_found(format!(
            "User pool {pool_id} does not exist."
        )));
    };
    let certificates = state
        .node
        .sp_keys
        .published_certificates(&pool.id, crate::core::now())
        .await?;
    let acs_url = format!("{}{ACS_PATH}", state.node.config.public_url());
    let slo_url = format!("{}{SLO_PATH}", state.node.config.public_url());
    let xml = sp_metadata(&pool.sp_entity_id(), &acs_url, &slo_url, &certificates)
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, METADATA_CONTENT_TYPE),
            // IdPs that poll the metadata see a rotation within minutes; the retired
            // certificate stays listed far longer than that.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        xml,
    )
        .into_response())
}
