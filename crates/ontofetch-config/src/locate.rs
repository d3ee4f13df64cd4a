//! Finds the line of a key path (`defaults.http.max_retries`, `ontologies[2].id`) in YAML
//! text, so errors found after parsing still point the user at a line.

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Splits `a.b[2].c` into steps.
pub fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key.to_string()));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(i) = rest[1..end].parse() {
                out.push(Step::Index(i));
            }
            rest = &rest[end + 1..];
        }
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '-']).len()
}

fn is_key_line(line: &str, key: &str) -> bool {
    let t = line.trim_start_matches([' ', '-']).trim_start();
    let t = t.strip_prefix(['"', '\'']).unwrap_or(t);
    t.strip_prefix(key).map(|r| r.trim_start_matches(['"', '\'']).trim_start().starts_with(':')).unwrap_or(false)
}

/// 1-based line of the deepest step of `path` that can be found (best effort: block-style
/// YAML as people write it; flow mappings fall back to the enclosing key's line).
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize;
    let mut end = lines.len();
    let mut min_indent = 0usize;
    let mut found = None;
    for step in steps(path) {
        let hit = match &step {
            Step::Key(key) => (start..end).find(|&i| {
                let l = lines[i];
                !l.trim().is_empty()
                    && !l.trim_start().starts_with('#')
                    && indent(l) >= min_indent
                    && is_key_line(l, key)
            }),
            Step::Index(n) => {
                let items: Vec<usize> = (start..end)
                    .filter(|&i| {
                        let t = lines[i].trim_start();
                        t.starts_with("- ") || t == "-"
                    })
                    .filter(|&i| {
                        let first = (start..end)
                            .find(|&j| lines[j].trim_start().starts_with('-'))
                            .map(|j| lines[j].len() - lines[j].trim_start().len());
                        Some(lines[i].len() - lines[i].trim_start().len()) == first
                    })
                    .collect();
                items.get(*n).copied()
            }
        };
        let Some(i) = hit else { break };
        found = Some(i + 1);
        let own = lines[i].len() - lines[i].trim_start().len();
        let is_item = matches!(step, Step::Index(_));
        // The block of this step ends at the next meaningful line indented no deeper,
        // except that a key's own list items may sit at the key's indentation.
        let block_end = (i + 1..end)
            .find(|&j| {
                let l = lines[j];
                let t = l.trim_start();
                let depth = l.len() - t.len();
                let meaningful = !t.is_empty() && !t.starts_with('#');
                let own_list_item = !is_item && t.starts_with('-') && depth == own;
                meaningful && depth <= own && !own_list_item
            })
            .unwrap_or(end);
        start = if is_item { i } else { i + 1 };
        end = block_end;
        min_indent = if is_item { own } else { own + 1 };
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
defaults:
  http:
    max_retries: 99
    timeout_sec: 3
  logging:
    level: LOUD
ontologies:
  - id: bfo
    resolver: obo
  - id: ro
    resolver: nope
  -   id: \"../x\"
";

    #[test]
    fn finds_nested_keys_and_list_items() {
        assert_eq!(line_of(DOC, "defaults.http.max_retries"), Some(3));
        assert_eq!(line_of(DOC, "defaults.logging.level"), Some(6));
        assert_eq!(line_of(DOC, "ontologies[1].resolver"), Some(11));
        assert_eq!(line_of(DOC, "ontologies[0].id"), Some(8));
        assert_eq!(line_of(DOC, "ontologies[2].id"), Some(12));
        assert_eq!(line_of(DOC, "defaults.http.missing"), Some(2), "falls back to the parent");
    }
}
