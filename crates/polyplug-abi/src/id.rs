//! Contract identity: a 64-bit FNV-1a hash of `package:name@major`.
//!
//! The hash is computable at compile time, so generated callers carry their ids as constants.
//! Two different names with one id are detected at registration and refused.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

const fn fnv_bytes(mut state: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        state ^= bytes[i] as u64;
        state = state.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    state
}

/// The id of contract `name` (e.g. `demo:text/filter`) at major version `major`:
/// FNV-1a 64 of the text `name@major`.
pub const fn contract_id(name: &str, major: u32) -> u64 {
    let mut state = fnv_bytes(FNV_OFFSET, name.as_bytes());
    state = fnv_bytes(state, b"@");
    // Decimal digits of `major`, most significant first, without allocating.
    let mut digits = [0u8; 10];
    let mut n = major;
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    while count > 0 {
        count -= 1;
        state ^= digits[count] as u64;
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // FNV-1a 64 of the empty input is the offset basis; of "a" it is a published test vector.
        assert_eq!(fnv_bytes(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv_bytes(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            contract_id("demo:text/filter", 12),
            fnv_bytes(FNV_OFFSET, b"demo:text/filter@12")
        );
        assert_ne!(
            contract_id("demo:text/filter", 1),
            contract_id("demo:text/filter", 2)
        );
        const ID: u64 = contract_id("a:b/c", 0);
        assert_eq!(ID, fnv_bytes(FNV_OFFSET, b"a:b/c@0"));
    }
}
