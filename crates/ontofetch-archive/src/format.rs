//! Format detection by content (magic bytes), never by file name.

use std::io::Read;
use std::path::Path;

/// A single-stream compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// No compression (plain tar).
    None,
    /// gzip.
    Gzip,
    /// xz.
    Xz,
    /// zstd.
    Zstd,
    /// bzip2.
    Bzip2,
}

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A zip archive.
    Zip,
    /// A tar archive, possibly compressed.
    Tar(Codec),
    /// One compressed file (not a tar).
    Single(Codec),
    /// Not an archive.
    Plain,
}

fn codec_of(head: &[u8]) -> Codec {
    match head {
        [0x1f, 0x8b, ..] => Codec::Gzip,
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Codec::Xz,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Codec::Zstd,
        [b'B', b'Z', b'h', ..] => Codec::Bzip2,
        _ => Codec::None,
    }
}

fn is_tar(block: &[u8]) -> bool {
    block.len() >= 262 && &block[257..262] == b"ustar"
}

/// A decoder for `codec` over `r` (gzip members are all read, as gzip tools do).
pub(crate) fn decoder<'a, R: Read + 'a>(codec: Codec, r: R) -> std::io::Result<Box<dyn Read + 'a>> {
    Ok(match codec {
        Codec::None => Box::new(r),
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Codec::Xz => Box::new(lzma_rust2::XzReader::new(r, true)),
        Codec::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(r)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?,
        ),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
    })
}

/// Detects the format from the first bytes (decompressing 512 bytes to spot a tar inside).
pub fn detect(path: &Path) -> std::io::Result<Format> {
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)?.take(512).read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Format::Zip);
    }
    if is_tar(&head) {
        return Ok(Format::Tar(Codec::None));
    }
    let codec = codec_of(&head);
    if codec == Codec::None {
        return Ok(Format::Plain);
    }
    let mut inner = Vec::with_capacity(512);
    let file = std::fs::File::open(path)?;
    if let Ok(d) = decoder(codec, file) {
        let _ = d.take(512).read_to_end(&mut inner);
    }
    Ok(if is_tar(&inner) { Format::Tar(codec) } else { Format::Single(codec) })
}
