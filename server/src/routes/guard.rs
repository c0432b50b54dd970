//! The role check of plain form and file routes, as an extractor: `Allowed<Needs…>` in a
//! handler's arguments means the handler only runs for a signed-in user whose role may do
//! that. It shares its rule with the server functions' `require` (`paydesk_app::guard::allow`,
//! which asks `Role::can`), so a page and the form behind it can never disagree.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use paydesk_core::auth::AuthSession;
use paydesk_core::role::Capability;
use paydesk_core::store::User;

/// A capability as a type, for [`Allowed`].
pub trait Needs: Send + Sync + 'static {
    const CAPABILITY: Capability;
}

macro_rules! needs {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Needs `Capability::", stringify!($name), "`.")]
            pub struct $name;
            impl Needs for $name {
                const CAPABILITY: Capability = Capability::$name;
            }
        )*
    };
}

needs!(ManageCredentials, ViewOrders, Checkout);

/// The signed-in user who may do `N::CAPABILITY`, with their session (for drafts and
/// notices). Refused with 401 (nobody signed in) or 403 (the role may not) before the
/// handler runs.
pub struct Allowed<N: Needs> {
    pub user: User,
    pub auth: AuthSession,
    needs: PhantomData<N>,
}

/// Why [`Allowed`] refused: the status and a short plain-text reason.
#[derive(Debug)]
pub struct Refused(pub StatusCode);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let text = if self.0 == StatusCode::UNAUTHORIZED {
            "sign in first\n"
        } else {
            "your role may not do this\n"
        };
        (self.0, text).into_response()
    }
}

impl<S, N> FromRequestParts<S> for Allowed<N>
where
    S: Send + Sync,
    N: Needs,
    AuthSession: FromRequestParts<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match paydesk_app::guard::allow(auth.user.as_ref(), N::CAPABILITY) {
            Ok(user) => Ok(Allowed {
                user,
                auth,
                needs: PhantomData,
            }),
            Err(status) => Err(Refused(status).into_response()),
        }
    }
}
