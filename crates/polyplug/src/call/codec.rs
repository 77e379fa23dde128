//! Encoding arguments and decoding results for generated host callers.
//!
//! Arguments are encoded as views of the caller's memory (strings, byte lists, lists of plain
//! data: no copy); only lists whose elements need conversion are built in the call context's
//! arena. Results are decoded into owned values and validated like a guest validates its
//! arguments: a bad `bool`, `char`, enum case, option or result tag, a null or misaligned view,
//! or invalid UTF-8 is an error ([`super::CallSite::malformed`]), never undefined behaviour.
use crate::error::{ErrorKind, Result};
use polyplug_abi::CallArena;
use polyplug_abi::{Handle, List, Version};
use std::mem::{align_of, size_of};

// The checks guests and the value walker use too: one set of rules and messages. A failure
// is a `Malformed`, which `CallSite::malformed` reports.
pub use polyplug_abi::check::{
    bool_from, bytes_from, bytes_view, char_from, enum_from, list_view, option_from, result_from,
    str_view, string_from, vec_from, Malformed,
};

pub use polyplug_abi::{RawOption, RawPayload, RawResult};

/// Decoding's result type.
pub type Decoded<T> = polyplug_abi::check::Checked<T>;

/// Encodes each element of an argument list with `each` into an array in the call's arena
/// (for elements that are not plain data; plain ones are passed as `List::new(slice)`).
pub fn list_into<T, R: Copy>(
    arena: &mut CallArena,
    items: &[T],
    mut each: impl FnMut(&mut CallArena, &T) -> Result<R>,
) -> Result<List> {
    List::encode(
        arena,
        items,
        |a: &mut CallArena, size, align| a.alloc(size, align),
        |a, item| each(a, item),
        || ErrorKind::OutOfMemory.into(),
    )
}

/// The expected shape of one function: its name and argument/result struct layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncShape {
    /// The function's name.
    pub name: &'static str,
    /// Size and alignment of the argument struct.
    pub args: (usize, usize),
    /// Size and alignment of the result.
    pub ret: (usize, usize),
}

impl FuncShape {
    /// The shape of a function whose argument struct is `A` and result `R` (`()` for none).
    pub const fn of<A, R>(name: &'static str) -> FuncShape {
        FuncShape {
            name,
            args: (size_of::<A>(), align_of::<A>()),
            ret: (size_of::<R>(), align_of::<R>()),
        }
    }
}

/// Checks that `handle` names a provider of contract `name`, compatible with `version`,
/// whose first functions are `funcs` with the same layouts: what makes a generated caller's
/// unchecked calls by index sound. A reload can only append functions, so the check holds
/// for the handle's life.
pub fn check_provider(
    rt: &crate::Runtime,
    handle: Handle,
    name: &str,
    version: Version,
    funcs: &[FuncShape],
) -> Result<()> {
    let info = rt.contract(handle)?;
    let mismatch = |what: String| {
        Err(ErrorKind::InvalidArgument(format!(
            "the provider {{index: {}, generation: {}}} cannot serve a `{name}@{version}` caller: {what}",
            handle.index, handle.generation
        ))
        .into())
    };
    if info.name != name {
        return mismatch(format!("it provides `{}`", info.name));
    }
    if !info.version.satisfies(&version) {
        return mismatch(format!("it provides version {}", info.version));
    }
    if info.funcs.len() < funcs.len() {
        return mismatch(format!("it has {} functions", info.funcs.len()));
    }
    for (have, want) in info.funcs.iter().zip(funcs) {
        let layout = |(size, align): (usize, usize)| (size as u32, align as u32);
        if have.name != want.name
            || (have.args.size, have.args.align) != layout(want.args)
            || (have.ret.size, have.ret.align) != layout(want.ret)
        {
            return mismatch(format!(
                "its function `{}` differs from `{}`",
                have.name, want.name
            ));
        }
    }
    Ok(())
}
