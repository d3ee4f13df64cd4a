//! Incomplete multipart uploads: a worker killed during an upload leaves its parts in the
//! bucket, billed and invisible to a listing. `object_store` has no call to find them, so
//! ListMultipartUploads and AbortMultipartUpload are sent here, signed with its SigV4
//! authorizer, to the same endpoint with the same credentials. `doctor` lists those older
//! than a day and `doctor --fix` aborts them.

use crate::StoreError;
use object_store::aws::{AwsAuthorizer, AwsCredential};
use object_store::client::{HttpRequest, HttpRequestBody};
use quick_xml::events::Event;
use serde::Serialize;

/// An upload that was started and neither completed nor aborted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenUpload {
    /// The object key it would have written (store-relative).
    pub key: String,
    /// The server's upload id.
    pub upload_id: String,
    /// When it started (ISO 8601, as the server says).
    pub initiated: String,
}

/// What the raw calls need: where the bucket answers and how to sign.
pub(crate) struct RawS3 {
    /// `http(s)://host[:port]/bucket` (path style).
    pub bucket_url: String,
    pub region: String,
    pub credential: Option<AwsCredential>,
    pub client: reqwest::Client,
}

fn failed(what: &str, message: impl std::fmt::Display) -> StoreError {
    StoreError::Backend { what: what.to_string(), message: message.to_string(), retryable: false }
}

impl RawS3 {
    async fn send(&self, method: &str, url: &str) -> Result<(u16, String), StoreError> {
        let mut req: HttpRequest = http::Request::builder()
            .method(method)
            .uri(url)
            .body(HttpRequestBody::empty())
            .map_err(|e| failed(url, e))?;
        if let Some(c) = &self.credential {
            AwsAuthorizer::new(c, "s3", &self.region).try_authorize(&mut req, None).map_err(|e| failed(url, e))?;
        }
        let mut out =
            self.client.request(reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| failed(url, e))?, url);
        for (name, value) in req.headers() {
            out = out.header(name.as_str(), value.as_bytes());
        }
        let resp = out.send().await.map_err(|e| failed(url, e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| failed(url, e))?;
        Ok((status, body))
    }

    /// Every open upload under `prefix` (store keys relative to it), or `None` when the
    /// server does not implement the listing.
    pub async fn list(&self, prefix: &str) -> Result<Option<Vec<OpenUpload>>, StoreError> {
        let mut out = Vec::new();
        let mut marker: Option<(String, String)> = None;
        loop {
            let mut url = url::Url::parse(&self.bucket_url).map_err(|e| failed(&self.bucket_url, e))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_key_only("uploads");
                if !prefix.is_empty() {
                    q.append_pair("prefix", prefix);
                }
                if let Some((key, id)) = &marker {
                    q.append_pair("key-marker", key).append_pair("upload-id-marker", id);
                }
            }
            let (status, body) = self.send("GET", url.as_str()).await?;
            if status == 501 || body.contains("NotImplemented") {
                return Ok(None);
            }
            if status != 200 {
                return Err(failed("listing incomplete multipart uploads", format!("HTTP {status}: {body}")));
            }
            let page = parse(&body).map_err(|e| failed("reading the list of incomplete uploads", e))?;
            out.extend(page.uploads);
            match page.next {
                Some(next) => marker = Some(next),
                None => return Ok(Some(out)),
            }
        }
    }

    /// Aborts one upload (its parts are freed).
    pub async fn abort(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        let mut url = url::Url::parse(&self.bucket_url).map_err(|e| failed(&self.bucket_url, e))?;
        url.path_segments_mut().map_err(|()| failed(&self.bucket_url, "not a base URL"))?.extend(key.split('/'));
        url.query_pairs_mut().append_pair("uploadId", upload_id);
        let (status, body) = self.send("DELETE", url.as_str()).await?;
        match status {
            200..=299 | 404 => Ok(()),
            _ => Err(failed(&format!("aborting the upload of {key}"), format!("HTTP {status}: {body}"))),
        }
    }
}

/// One page of ListMultipartUploadsResult.
struct Page {
    uploads: Vec<OpenUpload>,
    /// `(NextKeyMarker, NextUploadIdMarker)` when `IsTruncated`.
    next: Option<(String, String)>,
}

fn parse(xml: &str) -> Result<Page, quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut uploads = Vec::new();
    let mut current: Option<OpenUpload> = None;
    let (mut truncated, mut next_key, mut next_id) = (false, String::new(), String::new());
    // The text of the element being read: plain text and entity references in turn.
    let mut text = String::new();
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                text.clear();
                if e.local_name().as_ref() == "Upload" {
                    current =
                        Some(OpenUpload { key: String::new(), upload_id: String::new(), initiated: String::new() });
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    text.extend(r.resolve_char_ref()?);
                } else if let Some(v) = quick_xml::escape::resolve_predefined_entity(&r.xml10_content()) {
                    text.push_str(v);
                }
            }
            Event::End(e) => {
                let value = std::mem::take(&mut text);
                match (e.local_name().as_ref(), current.as_mut()) {
                    ("Upload", _) => uploads.extend(current.take()),
                    ("Key", Some(u)) => u.key = value,
                    ("UploadId", Some(u)) => u.upload_id = value,
                    ("Initiated", Some(u)) => u.initiated = value,
                    ("IsTruncated", None) => truncated = value.trim() == "true",
                    ("NextKeyMarker", None) => next_key = value,
                    ("NextUploadIdMarker", None) => next_id = value,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Page { uploads, next: (truncated && !next_key.is_empty()).then_some((next_key, next_id)) })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_listing_page_names_each_upload_and_where_to_go_on() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>mirror</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>team/ontologies/b/v/original/b.owl</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
  <MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>team/ontologies/a/v/original/a&amp;b.owl</Key><UploadId>u1</UploadId>
    <Initiator><ID>x</ID></Initiator><Initiated>2026-11-01T00:00:00.000Z</Initiated></Upload>
  <Upload><Key>team/ontologies/b/v/original/b.owl</Key><UploadId>u2</UploadId><Initiated>2026-11-02T00:00:00.000Z</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let page = parse(xml).unwrap();
        assert_eq!(page.uploads.len(), 2);
        assert_eq!(page.uploads[0].key, "team/ontologies/a/v/original/a&b.owl", "entities decoded");
        assert_eq!(
            (page.uploads[1].upload_id.as_str(), page.uploads[1].initiated.as_str()),
            ("u2", "2026-11-02T00:00:00.000Z")
        );
        assert_eq!(page.next, Some(("team/ontologies/b/v/original/b.owl".into(), "u2".into())));
        let last =
            parse("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>").unwrap();
        assert!(last.uploads.is_empty() && last.next.is_none());
    }
}
