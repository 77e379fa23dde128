//! Naming rules shared by the emitters: WIT's kebab-case into each language's conventions.

/// `line-filter` → `line_filter`.
pub fn snake(kebab: &str) -> String {
    kebab.replace('-', "_")
}

/// `line-filter` → `LINE_FILTER`.
pub fn upper_snake(kebab: &str) -> String {
    snake(kebab).to_ascii_uppercase()
}

/// `line-filter` → `LineFilter`.
pub fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The C identifier prefix of a contract: `demo:logs/filter` → `demo_logs_filter`.
pub fn c_prefix(contract_name: &str) -> String {
    snake(&contract_name.replace([':', '/'], "_"))
}

/// The file stem of a contract's generated files: `demo:logs/filter` → `demo_logs_filter`.
pub fn file_stem(contract_name: &str) -> String {
    c_prefix(contract_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("line-filter-2"), "line_filter_2");
        assert_eq!(upper_snake("in-flight"), "IN_FLIGHT");
        assert_eq!(camel("line-filter"), "LineFilter");
        assert_eq!(camel("stream-2"), "Stream2");
        assert_eq!(c_prefix("demo:logs/filter"), "demo_logs_filter");
        assert_eq!(c_prefix("wasi:io-x/stream-2"), "wasi_io_x_stream_2");
    }
}
