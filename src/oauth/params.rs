//! Request parameters of the OAuth endpoints (query or form body): parsed once, any repeated
//! name refused (RFC 6749 §3.1, §3.2), and empty values read as absent.

/// Query or form parameters, refusing any repeated name.
pub fn parse(raw: &str) -> Result<Vec<(String, String)>, &'static str> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(other, _)| other == k) {
            return Err("a parameter was given more than once");
        }
    }
    Ok(pairs)
}

/// The non-empty value of `name`.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(parse("a=1&b=2").is_ok());
        assert!(parse("state=1&state=2").is_err());
        assert_eq!(get(&parse("a=&b=2").unwrap(), "a"), None);
    }
}
