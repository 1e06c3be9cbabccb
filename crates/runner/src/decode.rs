//! Decoding a response body per its `Content-Encoding`, within a size cap.
//!
//! reqwest's own decompression is not used: it removes `Content-Encoding` from the
//! headers, and `expect.headers` must see what the server sent.

use std::io::Read;

/// What rehearse asks for when a request does not say (`Accept-Encoding`).
pub(crate) const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// The largest body rehearse reads or decodes (1 GiB): past it the exchange fails, so a
/// decompression bomb is an error, not an exhausted memory.
pub(crate) const MAX_BODY: usize = 1 << 30;

/// `raw` decoded by the codings of `content_encoding` (all the header's values, in the
/// order sent: the last one applied is undone first). At most `cap` bytes come out.
pub(crate) fn decode(raw: Vec<u8>, content_encoding: &str, cap: usize) -> Result<Vec<u8>, String> {
    let codings: Vec<String> = content_encoding
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    if raw.is_empty() {
        // HEAD, 204 and 304 answers carry the header and no body.
        return Ok(raw);
    }
    let mut body = raw;
    for coding in codings.iter().rev() {
        body = decode_one(&body, coding, cap)?;
    }
    Ok(body)
}

fn decode_one(input: &[u8], coding: &str, cap: usize) -> Result<Vec<u8>, String> {
    let failed = |e: std::io::Error| format!("failed to decode the {coding} body: {e}");
    let out = match coding {
        "gzip" | "x-gzip" => read_capped(flate2::read::MultiGzDecoder::new(input), cap),
        "deflate" => {
            // RFC 9110's deflate is zlib-wrapped; some servers send raw deflate, which
            // browsers and curl accept too.
            read_capped(flate2::read::ZlibDecoder::new(input), cap).or_else(|e| {
                if e.kind() == std::io::ErrorKind::FileTooLarge {
                    Err(e)
                } else {
                    read_capped(flate2::read::DeflateDecoder::new(input), cap)
                }
            })
        }
        "br" => read_capped(
            brotli_decompressor::Decompressor::new(input, 64 * 1024),
            cap,
        ),
        "zstd" => match ruzstd::decoding::StreamingDecoder::new(input) {
            Ok(d) => read_capped(d, cap),
            Err(e) => return Err(format!("failed to decode the zstd body: {e}")),
        },
        other => {
            return Err(format!(
                "unsupported Content-Encoding `{other}` (rehearse decodes gzip, deflate, br and zstd; send `Accept-Encoding` with those only)"
            ));
        }
    };
    out.map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            format!(
                "the {coding} body decodes to more than {} (the limit of a response body): a decompression bomb, or a body too large to check",
                size(cap)
            )
        } else {
            failed(e)
        }
    })
}

/// Reads at most `cap` bytes; one more is an error of kind `FileTooLarge`.
fn read_capped(r: impl Read, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    r.take(limit).read_to_end(&mut out)?;
    if out.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "decoded body over the limit",
        ));
    }
    Ok(out)
}

/// A size in binary units, as people read it: `1 GiB`, `64 KiB`, `512 bytes`.
/// A response body over [`MAX_BODY`]: `announced` when its length was given up front.
pub(crate) fn over_limit(announced: Option<usize>) -> String {
    match announced {
        Some(n) => format!("a body of {n} bytes, over the limit of {}", size(MAX_BODY)),
        None => format!(
            "a body over the limit of {} (the response is larger)",
            size(MAX_BODY)
        ),
    }
}

pub(crate) fn size(n: usize) -> String {
    const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_every_coding_and_several_in_order() {
        let text = b"hello, decoded world\r\n".repeat(50);
        let mut br = Vec::new();
        brotli::BrotliCompress(
            &mut &text[..],
            &mut br,
            &brotli::enc::BrotliEncoderParams::default(),
        )
        .unwrap();
        let zstd = ruzstd::encoding::compress_to_vec(
            &text[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(&text).unwrap();
        let zlib = zlib.finish().unwrap();
        let mut raw_deflate =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw_deflate.write_all(&text).unwrap();
        let raw_deflate = raw_deflate.finish().unwrap();
        for (coding, body) in [
            ("gzip", gzip(&text)),
            ("br", br),
            ("zstd", zstd),
            ("deflate", zlib),
            ("deflate", raw_deflate),
            ("identity", text.clone()),
            // gzip first, then gzip again: undone last first.
            ("gzip, gzip", gzip(&gzip(&text))),
        ] {
            assert_eq!(decode(body, coding, MAX_BODY).unwrap(), text, "{coding}");
        }
    }

    #[test]
    fn a_decompression_bomb_is_an_error_naming_the_cap() {
        let bomb = gzip(&vec![0u8; 4 << 20]);
        let err = decode(bomb, "gzip", 1 << 20).unwrap_err();
        assert_eq!(
            err,
            "the gzip body decodes to more than 1 MiB (the limit of a response body): a decompression bomb, or a body too large to check"
        );
    }

    #[test]
    fn an_unknown_coding_is_named() {
        let err = decode(b"x".to_vec(), "compress", MAX_BODY).unwrap_err();
        assert!(
            err.starts_with("unsupported Content-Encoding `compress`"),
            "{err}"
        );
    }
}
