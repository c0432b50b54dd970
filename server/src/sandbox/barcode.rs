//! The sandbox wallet's payment code as a Code 128 barcode (set C: digit pairs), drawn as
//! a PNG, as Alipay and WeChat show it above the QR code: what a barcode gun at the till
//! reads off the customer's phone.

use barcoders::sym::code128::Code128;

/// Pixels per module and the bars' height.
const MODULE: usize = 3;
const HEIGHT: usize = 90;
/// The quiet zone Code 128 asks for on each side, in modules.
const QUIET: usize = 10;

/// The PNG of `digits` (an even number of digits, as payment codes are), or `None` for
/// anything set C cannot hold.
pub fn png(digits: &str) -> Option<Vec<u8>> {
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // 'Ć' selects character set C (two digits per symbol).
    let modules = Code128::new(format!("Ć{digits}")).ok()?.encode();
    let width = (modules.len() + 2 * QUIET) * MODULE;
    let mut row = vec![255u8; width];
    for (i, m) in modules.iter().enumerate() {
        if *m == 1 {
            let x = (i + QUIET) * MODULE;
            row[x..x + MODULE].fill(0);
        }
    }
    let pixels: Vec<u8> = row.iter().copied().cycle().take(width * HEIGHT).collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, u32::try_from(width).ok()?, HEIGHT as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_codes_become_barcodes() {
        let png = png("284761001234567890").expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .expect("info");
        // Start C + 9 pairs + checksum (11 modules each) + stop (13) + quiet zones.
        assert_eq!(
            reader.info().width as usize,
            (11 * 11 + 13 + 2 * QUIET) * MODULE
        );
        assert!(super::png("123").is_none() && super::png("12a4").is_none());
    }
}
