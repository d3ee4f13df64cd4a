//! A generator of good and malicious archives for the extraction tests: zip built
//! byte by byte (so headers, offsets and names can lie), tar via the tar crate's headers
//! (with raw names where the crate would refuse them), and compressed streams.

use std::io::Write;

/// One zip entry as it will be laid out.
#[derive(Clone)]
pub struct RawEntry {
    /// Name in the central directory.
    pub name: Vec<u8>,
    /// Name in the local header (normally the same).
    pub local_name: Vec<u8>,
    /// Uncompressed content.
    pub content: Vec<u8>,
    /// Deflate instead of store.
    pub deflate: bool,
    /// Unix mode (file type bits included), stored in the external attributes.
    pub unix_mode: Option<u32>,
    /// General purpose flags (bit 0 = encrypted).
    pub flags: u16,
    /// Compression method override (e.g. 14 = LZMA) written as is.
    pub method: Option<u16>,
    /// Uncompressed size written in the headers, if it should lie.
    pub declared_size: Option<u32>,
}

impl RawEntry {
    /// A stored file.
    pub fn file(name: &str, content: &[u8]) -> Self {
        RawEntry {
            name: name.as_bytes().to_vec(),
            local_name: name.as_bytes().to_vec(),
            content: content.to_vec(),
            deflate: false,
            unix_mode: None,
            flags: 0,
            method: None,
            declared_size: None,
        }
    }

    /// A deflated file.
    pub fn deflated(name: &str, content: &[u8]) -> Self {
        RawEntry { deflate: true, ..RawEntry::file(name, content) }
    }
}

/// One central-directory record.
#[derive(Clone)]
struct CentralRecord {
    name: Vec<u8>,
    offset: u32,
    crc: u32,
    csize: u32,
    size: u32,
    method: u16,
    flags: u16,
    attrs: u32,
    made_by: u16,
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Lays out a zip: local headers and data in order, then the central directory. `aliases`
/// adds central-directory records `(name, entry index, offset delta)` that point into an
/// earlier entry's local header or data: the overlapping-file bombs.
pub fn zip(entries: &[RawEntry], aliases: &[(&str, usize, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut records: Vec<CentralRecord> = Vec::new();
    for e in entries {
        let data = if e.deflate { deflate(&e.content) } else { e.content.clone() };
        let method = e.method.unwrap_or(if e.deflate { 8 } else { 0 });
        let crc = crc32fast::hash(&e.content);
        let size = e.declared_size.unwrap_or(e.content.len() as u32);
        let offset = out.len() as u32;
        out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04]);
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(e.local_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&e.local_name);
        out.extend_from_slice(&data);
        let attrs = e.unix_mode.map(|m| m << 16).unwrap_or(0);
        let made_by: u16 = if e.unix_mode.is_some() { (3 << 8) | 20 } else { 20 };
        records.push(CentralRecord {
            name: e.name.clone(),
            offset,
            crc,
            csize: data.len() as u32,
            size,
            method,
            flags: e.flags,
            attrs,
            made_by,
        });
    }
    for (name, idx, delta) in aliases {
        let mut r = records[*idx].clone();
        r.name = name.as_bytes().to_vec();
        r.offset += delta;
        records.push(r);
    }
    let cd_start = out.len() as u32;
    for CentralRecord { name, offset, crc, csize, size, method, flags, attrs, made_by } in &records {
        central.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02]);
        central.extend_from_slice(&made_by.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&csize.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra len, comment len, disk, internal attrs
        central.extend_from_slice(&attrs.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(records.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A zip whose second record points at a local header hidden inside the first entry's
/// data (the "quoted overlap" variant: header offsets differ, data ranges still cross).
pub fn zip_quoted_overlap() -> Vec<u8> {
    let b = zip(&[RawEntry::file("b.owl", b"inner")], &[]);
    let a = RawEntry::file("a.owl", &b[..30 + 5 + 5]);
    zip(&[a], &[("b.owl", 0, 30 + 5)])
}

/// One tar entry.
pub struct TarEntry {
    /// Raw name bytes (may hold `..` or an absolute path).
    pub name: Vec<u8>,
    /// Entry type.
    pub kind: tar::EntryType,
    /// Link target.
    pub link: Option<String>,
    /// Content (files).
    pub content: Vec<u8>,
    /// Mode bits.
    pub mode: u32,
}

impl TarEntry {
    /// A regular file.
    pub fn file(name: &str, content: &[u8]) -> Self {
        TarEntry {
            name: name.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            link: None,
            content: content.to_vec(),
            mode: 0o644,
        }
    }

    /// Any other type.
    pub fn special(name: &str, kind: tar::EntryType, link: Option<&str>) -> Self {
        TarEntry { name: name.as_bytes().to_vec(), kind, link: link.map(str::to_string), content: vec![], mode: 0o644 }
    }
}

/// Builds a ustar archive, writing names into the header directly (the tar crate's
/// `set_path` rightly refuses `..`; attackers do not use it).
pub fn tar(entries: &[TarEntry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(e.kind);
        h.set_size(e.content.len() as u64);
        h.set_mode(e.mode);
        h.set_mtime(0);
        {
            let raw = h.as_old_mut();
            raw.name = [0; 100];
            raw.name[..e.name.len()].copy_from_slice(&e.name);
            if let Some(l) = &e.link {
                raw.linkname = [0; 100];
                raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
        }
        h.set_cksum();
        b.append(&h, e.content.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// gzip.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// xz.
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

/// zstd.
pub fn zst(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// bzip2.
pub fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
