//! Bounds on a contract's size, so a corrupt or hostile description cannot make a reader loop,
//! recurse or allocate without limit.

/// Most functions in one contract (the runtime's bound too).
pub const MAX_FUNCTIONS: usize = 4096;
/// Most parameters of a function, fields of a record, elements of a tuple or cases of an enum.
pub const MAX_MEMBERS: usize = 4096;
/// Most flags in a `flags` type: they must fit a `u64`.
pub const MAX_FLAGS: usize = 64;
/// Deepest nesting of a type: a scalar is one level, `list<u32>` two. The same bound as the
/// layout algorithm's, so every accepted type has a layout.
pub const MAX_DEPTH: u32 = polyplug_abi::layout::MAX_DEPTH;
/// Most type nodes in all the parameter and result types of one contract. Bounds the work of
/// reading a descriptor graph whose nodes are shared (a DAG unfolds into a tree here).
pub const MAX_TYPE_NODES: usize = 1 << 16;
