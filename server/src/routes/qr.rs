//! `GET /checkout/{no}/qr.png`: a checkout's QR code as a PNG to download or print.
//!
//! Same rules as the checkout status page: signed in, a role that may take payments, and
//! (unless admin) the order's creator. Anybody else gets 404 whether or not the order
//! exists, so order numbers cannot be probed.

use crate::routes::guard::{Allowed, Checkout};
use crate::startup::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use paydesk_core::role::{OrderPurpose, Viewer, visible_to};
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module: a 33-module code (version 4 + quiet zone) comes out near 400 px,
/// plenty for print.
const SCALE: usize = 10;
/// The quiet zone the QR standard asks for, in modules.
const QUIET: usize = 4;

pub async fn png(
    Allowed { user, .. }: Allowed<Checkout>,
    State(state): State<AppState>,
    Path(no): Path<String>,
) -> Response {
    let order = match state.store.order(&no).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the order for its QR code");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(content) = order
        .filter(|o| {
            let viewer = Viewer::User {
                role: user.role,
                username: &user.username,
            };
            visible_to(
                viewer,
                OrderPurpose::Counter,
                &o.creator,
                o.api_key_id.as_deref(),
            )
        })
        .and_then(|o| o.qr_code)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match encode(&content) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/png".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{no}.png\""),
                ),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot draw the QR code");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Draws `content` as a black-on-white 8-bit greyscale PNG.
pub fn encode(content: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M)
        .map_err(|e| e.to_string())?;
    let width = code.width();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in code.into_colors().into_iter().enumerate() {
        if c != Color::Dark {
            continue;
        }
        let (mx, my) = (i % width + QUIET, i / width + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let side32 = u32::try_from(side).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_square_png_with_a_quiet_zone() {
        let png = encode("http://127.0.0.1:3000/sandbox/pay/abc").expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().expect("info");
        let info = reader.info();
        assert_eq!(info.width, info.height);
        assert_eq!(info.width as usize % SCALE, 0);
    }
}
