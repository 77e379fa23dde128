//! The naming rules of contracts.
//!
//! polyplug names are WIT identifiers restricted to lowercase: kebab-case words of ASCII
//! lowercase letters and digits, the first word starting with a letter (`read-2`, `utf8`).
//! WIT also allows all-uppercase words (`get-URL`); the runtime refuses them, so every entry point
//! of this crate refuses them too, before a contract reaches a registry.

/// Longest name accepted, in bytes: a bound checked before a peer's string is read.
pub const MAX_NAME_LEN: usize = 1024;

/// True for a polyplug identifier: lowercase kebab-case words, the first starting with a letter.
pub fn is_ident(s: &str) -> bool {
    s.len() <= MAX_NAME_LEN
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// True for a contract name `namespace:package/interface`, each part an identifier.
pub fn is_contract_name(name: &str) -> bool {
    name.split_once(':').is_some_and(|(namespace, rest)| {
        is_ident(namespace)
            && rest
                .split_once('/')
                .is_some_and(|(package, iface)| is_ident(package) && is_ident(iface))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for good in ["a", "read", "read-all", "stream-2", "utf8", "x1-y2"] {
            assert!(is_ident(good), "{good}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "", "-a", "a-", "a--b", "2a", "Read", "get-URL", "a_b", "a b", "é", &long,
        ] {
            assert!(!is_ident(bad), "{bad}");
        }
    }

    #[test]
    fn contract_names() {
        for good in ["demo:text/filter", "a:b/c", "wasi:io-x/stream-2"] {
            assert!(is_contract_name(good), "{good}");
        }
        for bad in [
            "",
            "demo",
            "demo:text",
            "Demo:text/filter",
            "demo:text/",
            "d:t/f g",
            "d:-t/f",
            "d:t/2f",
            "d:t/f/g",
        ] {
            assert!(!is_contract_name(bad), "{bad}");
        }
    }
}
