//! Arbitrary bytes through the XML guard (attribute and namespace-declaration counts,
//! entity expansion): it decides without panicking, and whatever it lets through, the
//! RDF/XML parser behind it (oxrdfxml on quick-xml 0.37, the one with the advisories) reads
//! to the end or to an error without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if ontofetch_validate::xmlguard::check(data).is_ok() {
        for triple in oxrdfxml::RdfXmlParser::new().for_slice(data) {
            if triple.is_err() {
                break;
            }
        }
    }
});
