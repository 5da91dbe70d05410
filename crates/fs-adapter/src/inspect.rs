//! One pass over a blob's bytes: size, SHA-256, a signature for the type, text and lines.

use std::io::Read;

use hexgate_domain::file::{FileFacts, TextStats, content_type};
use sha2::{Digest, Sha256};

const CHUNK: usize = 64 * 1024;
/// Enough for every signature `infer` knows.
const HEAD: usize = 8 * 1024;

/// Reads `reader` to its end, never holding more than one chunk. Blocking: call it on the
/// blocking pool.
///
/// # Errors
/// The reader's I/O errors.
pub(crate) fn inspect_reader(mut reader: impl Read) -> std::io::Result<FileFacts> {
    let mut hasher = Sha256::new();
    let mut stats = TextStats::new();
    let mut head = Vec::with_capacity(HEAD);
    let mut size = 0u64;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        size += n as u64;
        hasher.update(chunk);
        stats.feed(chunk);
        if head.len() < HEAD {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD - head.len())]);
        }
    }
    let sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let signature = infer::get(&head).map(|kind| kind.mime_type());
    Ok(FileFacts { size, sha256, content_type: content_type(signature, &stats), line_count: stats.line_count() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
    ];

    #[test]
    fn text_gets_its_hash_type_and_lines() {
        let facts = inspect_reader(&b"hello\nworld\n"[..]).expect("read");
        assert_eq!(facts.size, 12);
        // sha256("hello\nworld\n"), from `printf 'hello\nworld\n' | sha256sum`.
        assert_eq!(facts.sha256, "4a1e67f2fe1d1cc7b31d0ca2ec441da4778203a036a77da10344c85e24ff0f92");
        assert_eq!(facts.content_type, "text/plain");
        assert_eq!(facts.line_count, Some(2));
    }

    #[test]
    fn a_png_is_known_by_its_signature_and_has_no_lines() {
        let facts = inspect_reader(PNG).expect("read");
        assert_eq!(facts.content_type, "image/png");
        assert_eq!(facts.line_count, None);
        assert_eq!(facts.size, PNG.len() as u64);
    }

    #[test]
    fn large_input_is_read_in_chunks_with_the_same_hash_as_in_one_piece() {
        let data: Vec<u8> = (0..200_000u32).map(|i| b'a' + u8::try_from(i % 26).expect("small")).collect();
        let facts = inspect_reader(&data[..]).expect("read");
        let whole: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(facts.sha256, whole);
        assert_eq!(facts.line_count, Some(1));
    }
}
