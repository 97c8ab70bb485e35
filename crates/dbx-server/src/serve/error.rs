//! REST errors: JSON `{"error": {"kind", "message"}}` with a status that fits the kind.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dbx_core::ErrorKind;

use super::model::{ErrorBody, ErrorDetail};

/// An error answered to a REST client.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: String,
    message: String,
}

impl ApiError {
    /// The same error, its message led by `what` (which part of a request failed).
    pub(crate) fn within(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// An answer too large to send (`response_too_large`, 422).
    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "response_too_large".to_owned(),
            message: message.into(),
        }
    }

    /// A failure of the server itself (`other`, 500).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "other".to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_argument".to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            kind: "unauthorized".to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            kind: "permission_denied".to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not_found".to_owned(),
            message: message.into(),
        }
    }
}

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::UniqueViolation
        | ErrorKind::ForeignKeyViolation
        | ErrorKind::NotNullViolation
        | ErrorKind::CheckViolation => StatusCode::CONFLICT,
        ErrorKind::SyntaxError
        | ErrorKind::InvalidArgument
        | ErrorKind::UndefinedColumn
        | ErrorKind::InvalidTenant => StatusCode::BAD_REQUEST,
        ErrorKind::UndefinedTable | ErrorKind::NoSuchTenant => StatusCode::NOT_FOUND,
        ErrorKind::TenantExists => StatusCode::CONFLICT,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::Busy | ErrorKind::Timeout | ErrorKind::ConnectionLost => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<dbx_core::Error> for ApiError {
    fn from(e: dbx_core::Error) -> Self {
        match e {
            // The REST API's name for it, since before adapters stopped reading at the limit.
            dbx_core::Error::ResultTooLarge { .. } => ApiError::too_large(e.to_string()),
            // The statement itself ran too long: waiting and retrying would not help, so
            // this is not the 503 of a busy database.
            dbx_core::Error::StatementTimeout(_) => ApiError {
                status: StatusCode::GATEWAY_TIMEOUT,
                kind: ErrorKind::Timeout.as_str().to_owned(),
                message: e.to_string(),
            },
            e => ApiError {
                status: status_of(e.kind()),
                kind: e.kind().as_str().to_owned(),
                message: e.to_string(),
            },
        }
    }
}

impl From<dbx_migrate::Error> for ApiError {
    fn from(e: dbx_migrate::Error) -> Self {
        match e.database_error() {
            Some(db) => ApiError {
                status: status_of(db.kind()),
                kind: db.kind().as_str().to_owned(),
                message: e.to_string(),
            },
            None => ApiError {
                // Another runner (the command line, another server) holds the lock: the
                // request conflicts with work in progress. Everything else is about the
                // migrations themselves.
                status: if e.kind() == dbx_migrate::ErrorKind::LockTimeout {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                kind: format!("migrate_{}", e.kind().as_str()),
                message: e.to_string(),
            },
        }
    }
}

impl ApiError {
    /// The error as a response body states it.
    pub(crate) fn detail(self) -> ErrorDetail {
        ErrorDetail {
            kind: self.kind,
            message: self.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorBody {
            error: self.detail(),
        };
        let mut response = (status, Json(body)).into_response();
        // The database is busy, slow or unreachable: say when to try again.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

/// The REST handlers' result.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A JSON request body whose rejections are answered like every other REST error (JSON
/// `{"error": ...}`, with what was wrong), where axum's own `Json` answers in plain text.
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                kind: "invalid_argument".to_owned(),
                message: "send the body as JSON, with `Content-Type: application/json`".to_owned(),
            }),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    kind: "invalid_argument".to_owned(),
                    message: "the request body is larger than the server takes \
                              (`dbx serve` setting server.max-body-bytes)"
                        .to_owned(),
                })
            }
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}
