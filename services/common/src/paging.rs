//! Cursor paging over a stable order. A cursor is the position of the last item a page
//! returned (its sort key and id), so items inserted while a client pages neither repeat
//! nor shift what comes next. Cursors carry a checksum: a cursor that was edited is 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `limit` and `cursor` as every list takes them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// 1..100, default 20.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            Some(_) => Err(ApiError::BadRequestFields(vec![FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )])),
        }
    }

    pub fn position<P: for<'de> Deserialize<'de>>(&self) -> Result<Option<P>, ApiError> {
        self.cursor.as_deref().map(decode).transpose()
    }
}

/// A page of items in the shape every list answers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_rows<P: Serialize>(
        mut rows: Vec<T>,
        limit: i64,
        position_of: impl Fn(&T) -> P,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if has_more {
            rows.last().map(|last| encode(&position_of(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

const CHECKSUM_LEN: usize = 6;

fn checksum(payload: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(b"clmb-cursor-v1")
        .chain_update(payload)
        .finalize();
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

pub fn encode<P: Serialize>(position: &P) -> String {
    let mut bytes = serde_json::to_vec(position).unwrap_or_default();
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode<P: for<'de> Deserialize<'de>>(cursor: &str) -> Result<P, ApiError> {
    let invalid = || {
        ApiError::BadRequestFields(vec![FieldError::new(
            "cursor",
            "is not a cursor this list gave out",
        )])
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    if bytes.len() <= CHECKSUM_LEN {
        return Err(invalid());
    }
    let (payload, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
    if checksum(payload) != sum {
        return Err(invalid());
    }
    serde_json::from_slice(payload).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_its_position() {
        let cursor = encode(&("2024-01-01", 7));
        let position: (String, i32) = decode(&cursor).unwrap();
        assert_eq!(position, ("2024-01-01".to_owned(), 7));
    }

    #[test]
    fn an_edited_cursor_is_rejected() {
        let cursor = encode(&("2024-01-01", 7));
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        bytes[3] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        assert!(decode::<(String, i32)>(&tampered).is_err());
        assert!(decode::<(String, i32)>("not-a-cursor").is_err());
    }
}
