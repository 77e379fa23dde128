use super::*;
use crate::walk::Value;
use polyplug_abi::{CallArena, Str};
use polyplug_contract::{Param, Type, Version};
use std::sync::atomic::{AtomicU64, Ordering};

fn contract(functions: Vec<Function>) -> Arc<CompiledContract> {
    Arc::new(
        Contract::new("test:kit/p", Version::new(1, 0, 0), functions)
            .compile()
            .expect("a valid test contract"),
    )
}

/// `add(a: u32, b: u32) -> u32`, `greet(name: string) -> string`, `fail() -> u32`,
/// `boom() -> u32`, `count() -> u64`.
fn sample() -> Arc<CompiledContract> {
    contract(vec![
        Function::new(
            "add",
            vec![Param::new("a", Type::U32), Param::new("b", Type::U32)],
            Some(Type::U32),
        ),
        Function::new(
            "greet",
            vec![Param::new("name", Type::String)],
            Some(Type::String),
        ),
        Function::new("fail", vec![], Some(Type::U32)),
        Function::new("boom", vec![], Some(Type::U32)),
        Function::new("count", vec![], Some(Type::U64)),
    ])
}

struct Counter(AtomicU64);

fn build() -> Provider {
    ProviderBuilder::new(sample())
        .func("add", |call| {
            let (Value::U32(a), Value::U32(b)) = (call.param(0)?.read()?, call.param(1)?.read()?)
            else {
                return Err(CallError::new("not u32s"));
            };
            call.result()?.set_int(i128::from(a) + i128::from(b))?;
            Ok(())
        })
        .and_then(|b| {
            b.func("greet", |call| {
                let Value::String(name) = call.param(0)?.read()? else {
                    return Err(CallError::new("not a string"));
                };
                let text = format!("hello, {name}");
                call.result()?.set_str(&text)?;
                Ok(())
            })
        })
        .and_then(|b| b.func("fail", |_| Err(CallError::new("refused on purpose"))))
        .and_then(|b| b.func("boom", |_| panic!("boom {}", 42)))
        .and_then(|b| {
            b.func("count", |call| {
                let counter = call
                    .state::<Counter>()
                    .ok_or_else(|| CallError::new("no counter"))?;
                let n = counter.0.fetch_add(1, Ordering::Relaxed) + 1;
                // SAFETY: `count` returns a u64.
                unsafe { call.set_result(n) }
            })
        })
        .map(|b| {
            b.state(Counter(AtomicU64::new(100)))
                .instances(|| Ok(Box::new(Counter(AtomicU64::new(0)))))
        })
        .and_then(ProviderBuilder::build)
        .expect("every function has its closure")
}

struct Cx {
    ctx: CallCtx,
    _arena: Box<CallArena>,
}

fn cx() -> Cx {
    let mut arena = Box::new(CallArena::new(256).expect("memory"));
    Cx {
        ctx: CallCtx::new(arena.as_raw(), std::ptr::null()),
        _arena: arena,
    }
}

impl Cx {
    fn error(&self) -> String {
        // SAFETY: the message lives in the arena, not reset since.
        let bytes = unsafe { self.ctx.error_bytes() }.unwrap_or_default();
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Calls function `i` of `p` with `instance`.
///
/// # Safety
/// `args` and `ret` as the function needs.
unsafe fn call(
    p: &Provider,
    instance: *mut c_void,
    i: usize,
    args: *const c_void,
    ret: *mut c_void,
    cx: &mut Cx,
) -> Status {
    // SAFETY: the provider's own table of `func_count` entries.
    let iface = unsafe { &*p.interface() };
    // SAFETY: as above.
    let f = unsafe { iface.func(i as u32) }.expect("in range");
    // SAFETY: forwarded to the caller.
    Status::from_raw(unsafe { f(instance, args, ret, &mut cx.ctx) })
}

#[test]
fn closures_are_reached_through_the_one_calling_convention() {
    let p = build();
    // SAFETY: the provider's own interface.
    let iface = unsafe { &*p.interface() };
    assert_eq!(iface.func_count, 5);
    assert_eq!(iface.struct_size as usize, size_of::<Interface>());
    let mut cx = cx();
    let args = [40u32, 2];
    let mut out = 0u32;
    // SAFETY: `add` takes two u32s and returns one.
    let s = unsafe {
        call(
            &p,
            iface.provider,
            0,
            args.as_ptr().cast(),
            (&raw mut out).cast(),
            &mut cx,
        )
    };
    assert_eq!((s, out), (Status::Ok, 42));

    let name = Str::new("kit");
    let mut greeting = Str::EMPTY;
    // SAFETY: `greet` takes a string and returns one, into the context's arena.
    let s = unsafe {
        call(
            &p,
            iface.provider,
            1,
            (&raw const name).cast(),
            (&raw mut greeting).cast(),
            &mut cx,
        )
    };
    assert_eq!(s, Status::Ok);
    // SAFETY: the result lives in the context's arena.
    assert_eq!(unsafe { greeting.to_str() }, Ok("hello, kit"));
}

#[test]
fn failures_and_panics_become_a_status_and_a_message() {
    let p = build();
    // SAFETY: the provider's own interface.
    let iface = unsafe { &*p.interface() };
    let mut cx = cx();
    let mut out = 0u32;
    // SAFETY: `fail` and `boom` take nothing and return a u32.
    unsafe {
        let s = call(
            &p,
            iface.provider,
            2,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        );
        assert_eq!(s, Status::Error);
        assert_eq!(cx.error(), "refused on purpose");
        let s = call(
            &p,
            iface.provider,
            3,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        );
        assert_eq!(s, Status::Panic);
        assert_eq!(cx.error(), "boom 42");
        // A null instance, argument struct or result struct is refused, not followed.
        let s = call(
            &p,
            std::ptr::null_mut(),
            0,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        );
        assert_eq!(s, Status::NullPointer);
        let s = call(
            &p,
            iface.provider,
            0,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        );
        assert_eq!(s, Status::NullPointer);
        assert_eq!(cx.error(), "null argument struct");
        let args = [1u32, 2];
        let s = call(
            &p,
            iface.provider,
            0,
            args.as_ptr().cast(),
            std::ptr::null_mut(),
            &mut cx,
        );
        assert_eq!(s, Status::NullPointer);
    }
}

#[test]
fn a_wrong_result_type_names_the_function_and_is_the_providers_fault() {
    let c = contract(vec![Function::new("small", vec![], Some(Type::U8))]);
    let p = ProviderBuilder::new(c)
        .func("small", |call| {
            call.result()?.set_int(300)?;
            Ok(())
        })
        .and_then(ProviderBuilder::build)
        .expect("complete");
    let mut cx = cx();
    let mut out = 0u8;
    // SAFETY: `small` returns a u8.
    let s = unsafe {
        call(
            &p,
            (*p.interface()).provider,
            0,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        )
    };
    assert_eq!(s, Status::ContractMismatch);
    assert_eq!(cx.error(), "300 is out of range for u8 (0..=255)");
    // Typed fast paths check sizes.
    let c = contract(vec![Function::new("f", vec![], Some(Type::U8))]);
    let p = ProviderBuilder::new(c)
        // SAFETY: deliberately the wrong size, which is refused before anything is written.
        .func("f", |call| unsafe { call.set_result(7u64) })
        .and_then(ProviderBuilder::build)
        .expect("complete");
    // SAFETY: as above.
    let s = unsafe {
        call(
            &p,
            (*p.interface()).provider,
            0,
            std::ptr::null(),
            (&raw mut out).cast(),
            &mut cx,
        )
    };
    assert_eq!(s, Status::ContractMismatch);
    assert!(cx
        .error()
        .contains("8-byte result type for a 1-byte result"));
}

#[test]
fn instances_carry_their_own_state() {
    let p = build();
    // SAFETY: the provider's own interface.
    let iface = unsafe { &*p.interface() };
    let create = iface.create_instance.expect("stateful");
    let destroy = iface.destroy_instance.expect("stateful");
    let mut cx = cx();
    let (mut a, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: the provider's own functions and target.
    unsafe {
        assert_eq!(create(iface.provider, &mut a, &mut cx.ctx), 0);
        assert_eq!(create(iface.provider, &mut b, &mut cx.ctx), 0);
    }
    let mut n = 0u64;
    let mut count = |instance: *mut c_void| {
        // SAFETY: `count` returns a u64; the instance is live.
        let s = unsafe {
            call(
                &p,
                instance,
                4,
                std::ptr::null(),
                (&raw mut n).cast(),
                &mut cx,
            )
        };
        assert_eq!(s, Status::Ok);
        n
    };
    assert_eq!(count(a), 1);
    assert_eq!(count(a), 2);
    assert_eq!(count(b), 1);
    assert_eq!(count(iface.provider), 101, "the provider's own state");
    // SAFETY: each instance destroyed once; null is ignored.
    unsafe {
        destroy(iface.provider, a);
        destroy(iface.provider, b);
        destroy(iface.provider, std::ptr::null_mut());
    }
}

#[test]
fn every_index_reaches_its_own_closure() {
    let n = 300;
    let functions = (0..n)
        .map(|i| Function::new(format!("f{i}"), vec![], Some(Type::U32)))
        .collect();
    let mut b = ProviderBuilder::new(contract(functions));
    for i in 0..n {
        b = b
            // SAFETY: every function returns a u32.
            .func_at(i, move |call| unsafe { call.set_result(i as u32) })
            .expect("in range");
    }
    let p = b.build().expect("complete");
    let mut cx = cx();
    for i in 0..n {
        let mut out = u32::MAX;
        // SAFETY: function `i` returns a u32.
        let s = unsafe {
            call(
                &p,
                (*p.interface()).provider,
                i,
                std::ptr::null(),
                (&raw mut out).cast(),
                &mut cx,
            )
        };
        assert_eq!((s, out), (Status::Ok, i as u32));
    }
}

#[test]
fn incomplete_or_unknown_functions_are_build_errors() {
    let e = ProviderBuilder::new(sample())
        .func("nope", |_| Ok(()))
        .unwrap_err();
    assert_eq!(e.to_string(), "`test:kit/p@1.0.0` has no function `nope`");
    assert!(ProviderBuilder::new(sample())
        .func_at(9, |_| Ok(()))
        .is_err());
    let e = ProviderBuilder::new(sample())
        .func("add", |_| Ok(()))
        .and_then(ProviderBuilder::build)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "`test:kit/p@1.0.0`: no implementation for `greet`, `fail`, `boom`, `count`"
    );
}
