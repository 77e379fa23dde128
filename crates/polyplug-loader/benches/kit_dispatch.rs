//! `kit_dispatch`: one call of `add(a: u32, b: u32) -> u32` through a provider's function table.
//!
//! * `native/add`: the function is a plain `extern "C"` provider function, what a C plugin or
//!   generated Rust glue registers.
//! * `trampoline/add`: the same work done by a Rust closure in a provider built with
//!   [`ProviderBuilder`], reached through the kit's entry point for index 0 (which tail-calls the
//!   shared dispatcher, which calls the closure inside a panic guard).
//!
//! Both read the argument struct and write the result the same way (one unaligned read, one
//! unaligned write) and are called through a function pointer loaded from the interface, so
//! the difference is what the kit adds per call. Goal: `trampoline` − `native` ≤ 1.5 ns.

use criterion::{criterion_group, criterion_main, Criterion};
use polyplug_abi::{CallArena, CallCtx, Interface};
use polyplug_contract::{Contract, Function, Param, Type, Version};
use polyplug_loader::provider::ProviderBuilder;
use std::ffi::c_void;
use std::hint::black_box;
use std::sync::Arc;

#[repr(C)]
#[derive(Clone, Copy)]
struct AddArgs {
    a: u32,
    b: u32,
}

/// The hand-written provider function.
unsafe extern "C" fn native_add(
    _instance: *mut c_void,
    args: *const c_void,
    ret: *mut c_void,
    _ctx: *mut CallCtx,
) -> u32 {
    if args.is_null() || ret.is_null() {
        return polyplug_abi::Status::NullPointer.raw();
    }
    // SAFETY: checked non-null; `add`'s argument struct and result, per the convention.
    unsafe {
        let a = args.cast::<AddArgs>().read_unaligned();
        ret.cast::<u32>().write_unaligned(a.a.wrapping_add(a.b));
    }
    0
}

fn kit_dispatch(c: &mut Criterion) {
    let contract = Arc::new(
        Contract::new(
            "bench:kit/add",
            Version::new(1, 0, 0),
            vec![Function::new(
                "add",
                vec![Param::new("a", Type::U32), Param::new("b", Type::U32)],
                Some(Type::U32),
            )],
        )
        .compile()
        .expect("a valid contract"),
    );
    let provider = ProviderBuilder::new(contract.clone())
        .func("add", |call| {
            // SAFETY: `add`'s argument struct is two u32s and its result one u32 (checked by
            // size against the layout on every call).
            let a: AddArgs = unsafe { call.args_as() }?;
            // SAFETY: as above.
            unsafe { call.set_result(a.a.wrapping_add(a.b)) }
        })
        .and_then(ProviderBuilder::build)
        .expect("complete");
    let native_table = [Some(native_add as polyplug_abi::ContractFn)];
    let native = Interface {
        struct_size: size_of::<Interface>() as u32,
        func_count: 1,
        contract: contract.desc(),
        funcs: native_table.as_ptr(),
        provider: std::ptr::null_mut(),
        create_instance: None,
        destroy_instance: None,
    };
    let mut arena = CallArena::new(256).expect("memory");
    let mut ctx = CallCtx::new(arena.as_raw(), std::ptr::null());

    let mut g = c.benchmark_group("kit_dispatch");
    // SAFETY: the kit's own interface, alive while `provider` is.
    let kit: &Interface = unsafe { &*provider.interface() };
    for (arm, iface) in [("trampoline", kit), ("native", &native)] {
        g.bench_function(format!("{arm}/add"), |b| {
            let iface = black_box(iface);
            let args = AddArgs { a: 40, b: 2 };
            let mut out = 0u32;
            let mut failed = 0u32;
            b.iter(|| {
                // SAFETY: a table of one non-null entry; `add`'s argument and result structs.
                failed |= unsafe {
                    let f = (*iface.funcs).unwrap_unchecked();
                    f(
                        iface.provider,
                        black_box(&args as *const AddArgs).cast(),
                        (&raw mut out).cast(),
                        &mut ctx,
                    )
                };
            });
            assert_eq!((failed, out), (0, 42), "{arm}: every call succeeds");
        });
    }
    g.finish();
}

criterion_group!(benches, kit_dispatch);
criterion_main!(benches);
