//! The redirect gate: every hop is joined against the URL it came from, counted, checked
//! for an https→http downgrade, then judged by the url gate again.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::policy::NetPolicy;
use crate::url_gate::{UrlAllowed, check_parsed, check_raw, parse_error};
use url::Url;

/// Facts about one redirect hop.
#[derive(Debug, Clone, Copy)]
pub struct RedirectFacts<'a> {
    /// The URL that answered with a redirect.
    pub from: &'a Url,
    /// The raw `Location` header value.
    pub location: &'a str,
    /// The number of this hop, starting at 1.
    pub hop: usize,
}

/// The redirect gate. Refusals from the url checks are reported under this gate.
pub fn check_redirect(policy: &NetPolicy, facts: &RedirectFacts<'_>) -> Result<UrlAllowed, Refusal> {
    let refuse = |code, message| Refusal::new(Gate::Redirect, code, message);
    if facts.hop > policy.max_redirects {
        return Err(refuse(
            Code::RedirectLimit,
            format!("redirect hop {} from {} exceeds max_redirects = {}", facts.hop, facts.from, policy.max_redirects),
        ));
    }
    check_raw(policy, facts.location).map_err(|r| r.under(Gate::Redirect))?;
    let target = facts.from.join(facts.location).map_err(|e| parse_error(facts.location, e).under(Gate::Redirect))?;
    if facts.from.scheme() == "https" && target.scheme() == "http" {
        return Err(refuse(
            Code::RedirectDowngrade,
            format!("redirect from {} downgrades to plain http: {target}", facts.from),
        ));
    }
    check_parsed(policy, target).map_err(|r| r.under(Gate::Redirect))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_locations_are_joined_and_counted() {
        let from = Url::parse("https://purl.obolibrary.org/obo/bfo.owl").unwrap();
        let p = NetPolicy::default();
        let ok = check_redirect(&p, &RedirectFacts { from: &from, location: "/obo/bfo/2020/bfo.owl", hop: 1 }).unwrap();
        assert_eq!(ok.url.as_str(), "https://purl.obolibrary.org/obo/bfo/2020/bfo.owl");
        let over = check_redirect(&p, &RedirectFacts { from: &from, location: "/x", hop: 6 }).unwrap_err();
        assert_eq!((over.gate, over.code), (Gate::Redirect, Code::RedirectLimit));
        let down =
            check_redirect(&p, &RedirectFacts { from: &from, location: "http://example.org/", hop: 1 }).unwrap_err();
        assert_eq!(down.code, Code::RedirectDowngrade);
        let meta = check_redirect(
            &p,
            &RedirectFacts { from: &from, location: "https://169.254.169.254/latest/meta-data/", hop: 1 },
        )
        .unwrap_err();
        assert_eq!((meta.gate, meta.code), (Gate::Redirect, Code::PrivateIp));
    }
}
