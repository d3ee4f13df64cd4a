//! Arbitrary strings through the url gate: an allowed URL must re-parse to itself and never
//! name a loopback, private or metadata address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ontofetch_policy::NetPolicy;
use ontofetch_policy::ip::classify;
use ontofetch_policy::url_gate::{TargetHost, check_url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ok) = check_url(&NetPolicy::default(), text) {
        assert_eq!(check_url(&NetPolicy::default(), ok.url.as_str()).map(|a| a.url), Ok(ok.url.clone()));
        if let TargetHost::Ip(ip) = ok.host {
            assert!(classify(ip).is_none(), "{ip} allowed");
        }
    }
});
