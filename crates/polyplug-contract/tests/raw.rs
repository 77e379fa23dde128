//! Raw descriptor graphs: the owned graph built from the model reads back as the same contract,
//! and a peer's malformed graph is refused with a precise error instead of crashing or looping.

use polyplug_abi::ext::ReconcileError;
use polyplug_abi::types::CONTRACT_DESC_SIZE_V1;
use polyplug_abi::{ContractDesc, FieldDesc, FuncDesc, Str, TypeDesc, TypeKind};
use polyplug_contract::limits::{MAX_DEPTH, MAX_FUNCTIONS};
use polyplug_contract::names::MAX_NAME_LEN;
use polyplug_contract::{
    CompiledContract, Contract, ContractError, ErrorKind, Function, Param, RawContract, Type,
    Version,
};

fn every_kind() -> Contract {
    let scalars: Vec<Param> = [
        Type::Bool,
        Type::S8,
        Type::U8,
        Type::S16,
        Type::U16,
        Type::S32,
        Type::U32,
        Type::S64,
        Type::U64,
        Type::F32,
        Type::F64,
        Type::Char,
        Type::String,
        Type::Bytes,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, t)| Param::new(format!("p{i}"), t))
    .collect();
    let point = Type::Record {
        name: "point".into(),
        fields: vec![("x".into(), Type::S32), ("y".into(), Type::S32)],
    };
    let color = Type::Enum {
        name: "color".into(),
        cases: vec!["red".into(), "green".into()],
    };
    let wide = Type::Flags {
        name: "wide".into(),
        flags: (0..64).map(|i| format!("f{i}")).collect(),
    };
    let anonymous = Type::Record {
        name: String::new(),
        fields: vec![("a".into(), Type::option(Type::list(point.clone())))],
    };
    Contract::new(
        "demo:raw/everything",
        Version::new(3, 1, 4),
        vec![
            Function::new("scalars", scalars, Some(Type::U64)),
            Function::new(
                "composite",
                vec![
                    Param::new("p", point.clone()),
                    Param::new("c", color.clone()),
                    Param::new("w", wide),
                    Param::new("anon", anonymous),
                    Param::new("t", Type::Tuple(vec![Type::U8, point.clone(), Type::F64])),
                ],
                Some(Type::result(Some(Type::list(point)), Some(color.clone()))),
            ),
            Function::new(
                "results",
                vec![
                    Param::new("a", Type::result(None, None)),
                    Param::new("b", Type::result(Some(Type::String), None)),
                    Param::new("c", Type::result(None, Some(color))),
                ],
                None,
            ),
            Function::new("nothing", vec![], None),
        ],
    )
}

#[test]
fn round_trip_through_the_raw_graph() {
    let c = every_kind();
    let raw = RawContract::new(&c).expect("valid");
    // SAFETY: the graph is owned by `raw`, alive for the call.
    let back = unsafe { Contract::from_desc(raw.desc()) }.expect("reads back");
    assert_eq!(back, c);
    let d = raw.contract_desc();
    assert_eq!(d.struct_size, CONTRACT_DESC_SIZE_V1);
    assert_eq!(d.func_count, 4);
    assert_eq!(raw.functions().len(), 4);
    assert!(raw.functions().iter().all(|f| f.flags == 0));
}

#[test]
fn the_graph_stays_put_when_its_owner_moves() {
    let c = every_kind();
    let raw = RawContract::new(&c).expect("valid");
    let desc = raw.desc();
    // Moving the owner, onto the heap and then to another thread, moves no node.
    let boxed = Box::new(raw);
    assert_eq!(boxed.desc(), desc);
    let addr = desc as usize;
    let back = std::thread::spawn(move || {
        assert_eq!(boxed.desc() as usize, addr);
        // SAFETY: `boxed` owns the graph and lives until the end of this closure.
        unsafe { Contract::from_desc(boxed.desc()) }.expect("reads back")
    })
    .join()
    .expect("thread");
    assert_eq!(back, c);
}

#[test]
fn owners_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RawContract>();
    shareable::<CompiledContract>();
    shareable::<Contract>();
}

#[test]
fn invalid_models_are_not_built() {
    let mut c = every_kind();
    c.functions[3].name = "Nothing".into();
    let e = RawContract::new(&c).expect_err("invalid");
    assert_eq!(e.function, Some(3));
    assert!(matches!(
        e.kind,
        ErrorKind::Name {
            what: "function",
            ..
        }
    ));
}

#[test]
fn list_of_u8_reads_as_bytes() {
    static U8: TypeDesc = TypeDesc::scalar(TypeKind::U8);
    static LIST: TypeDesc = TypeDesc::wrapping(TypeKind::List, &U8);
    static FUNCS: [FuncDesc; 1] = [FuncDesc::new("f", &[], Some(&LIST))];
    static DESC: ContractDesc = ContractDesc::new("a:b/c", Version::new(1, 0, 0), &FUNCS);
    // SAFETY: static descriptors.
    let c = unsafe { Contract::from_desc(&DESC) }.expect("valid");
    assert_eq!(c.functions[0].result, Some(Type::Bytes));
}

/// Reads a contract of one function `f` whose only parameter `x` has type `ty`.
fn read_param(ty: &TypeDesc) -> Result<Contract, ContractError> {
    let params = [FieldDesc {
        name: Str::new("x"),
        ty,
    }];
    let funcs = [FuncDesc {
        name: Str::new("f"),
        params: params.as_ptr(),
        param_count: 1,
        flags: 0,
        result: std::ptr::null(),
    }];
    let desc = contract_desc("a:b/c", &funcs);
    // SAFETY: every descriptor is a live local or static for the call.
    unsafe { Contract::from_desc(&desc) }
}

fn contract_desc(name: &'static str, funcs: &[FuncDesc]) -> ContractDesc {
    ContractDesc {
        struct_size: CONTRACT_DESC_SIZE_V1,
        func_count: funcs.len() as u32,
        name: Str::new(name),
        version: Version::new(1, 0, 0),
        funcs: funcs.as_ptr(),
    }
}

#[test]
fn description_is_reconciled() {
    // SAFETY: null is allowed.
    let e = unsafe { Contract::from_desc(std::ptr::null()) }.expect_err("null");
    assert_eq!(e.kind, ErrorKind::Descriptor(ReconcileError::Null));
    assert_eq!(e.contract, "<unnamed>");

    let mut d = contract_desc("a:b/c", &[]);
    d.struct_size = 4;
    // SAFETY: a live local.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("too small");
    assert!(matches!(
        e.kind,
        ErrorKind::Descriptor(ReconcileError::TooSmall { .. })
    ));

    // A newer peer's larger description is accepted when its extra tail is zero.
    #[repr(C)]
    struct Newer {
        base: ContractDesc,
        extra: u64,
    }
    let mut n = Newer {
        base: contract_desc("a:b/c", &[]),
        extra: 0,
    };
    n.base.struct_size = std::mem::size_of::<Newer>() as u32;
    // The pointer covers all of `n`, tail included, as a peer's would.
    let whole = |n: &Newer| std::ptr::from_ref(n).cast::<ContractDesc>();
    // SAFETY: `n` holds `struct_size` bytes.
    unsafe { Contract::from_desc(whole(&n)) }.expect("zero tail");
    n.extra = 1;
    // SAFETY: as above.
    let e = unsafe { Contract::from_desc(whole(&n)) }.expect_err("non-zero tail");
    assert!(matches!(
        e.kind,
        ErrorKind::Descriptor(ReconcileError::UnknownTail { .. })
    ));
}

#[test]
fn names_are_checked_before_and_after_reading() {
    let mut d = contract_desc("a:b/c", &[]);
    d.name = Str {
        ptr: std::ptr::null(),
        len: 3,
    };
    // SAFETY: a malformed view is detected before it is read.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("malformed");
    assert_eq!(e.kind, ErrorKind::MalformedView);

    let long = "a".repeat(MAX_NAME_LEN + 1);
    d.name = Str::new(&long);
    // SAFETY: `long` lives for the call.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("too long");
    assert_eq!(e.kind, ErrorKind::NameTooLong(MAX_NAME_LEN + 1));

    let bad = [0xffu8, 0xfe];
    d.name = Str {
        ptr: bad.as_ptr(),
        len: 2,
    };
    // SAFETY: `bad` lives for the call.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("not UTF-8");
    assert_eq!(e.kind, ErrorKind::NotUtf8);

    let d = contract_desc("counter", &[]);
    // SAFETY: a live local.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("bad name");
    assert_eq!(e.kind, ErrorKind::ContractName("counter".into()));
}

#[test]
fn functions_are_checked() {
    static U32: TypeDesc = TypeDesc::scalar(TypeKind::U32);
    static P: [FieldDesc; 1] = [FieldDesc::new("x", &U32)];
    static DUP: [FuncDesc; 2] = [
        FuncDesc::new("inc", &P, Some(&U32)),
        FuncDesc::new("inc", &[], None),
    ];
    let d = contract_desc("t:c/counter", &DUP);
    // SAFETY: static descriptors.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("duplicate");
    assert!(matches!(
        e.kind,
        ErrorKind::Duplicate {
            what: "function",
            ..
        }
    ));

    let mut flagged = [FuncDesc::new("inc", &P, None)];
    flagged[0].flags = 4;
    let d = contract_desc("t:c/counter", &flagged);
    // SAFETY: live locals and statics.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("reserved flags");
    assert_eq!((e.kind, e.function), (ErrorKind::ReservedFlags(4), Some(0)));

    let mut d = contract_desc("t:c/counter", &[]);
    d.func_count = 3;
    d.funcs = std::ptr::null();
    // SAFETY: the null list is detected before it is read.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("null list");
    assert_eq!(e.kind, ErrorKind::Null("function list"));

    d.func_count = MAX_FUNCTIONS as u32 + 1;
    // SAFETY: the count is bounded before the (null) list is read.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("too many");
    assert!(matches!(
        e.kind,
        ErrorKind::TooMany {
            what: "functions",
            ..
        }
    ));

    let mut no_params = [FuncDesc::new("inc", &P, None)];
    no_params[0].params = std::ptr::null();
    let d = contract_desc("t:c/counter", &no_params);
    // SAFETY: the null parameter list is detected before it is read.
    let e = unsafe { Contract::from_desc(&d) }.expect_err("null params");
    assert_eq!(e.kind, ErrorKind::Null("parameter list"));
}

#[test]
fn types_are_checked() {
    let unknown = TypeDesc {
        kind: 99,
        ..TypeDesc::scalar(TypeKind::U8)
    };
    let e = read_param(&unknown).expect_err("unknown kind");
    assert_eq!(e.kind, ErrorKind::UnknownKind(99));
    assert_eq!(e.path, "function `f`, parameter `x`");
    assert_eq!(
        e.to_string(),
        "contract `a:b/c@1.0.0`, function `f`, parameter `x`: unknown type kind code 99"
    );

    let e = read_param(&TypeDesc::scalar(TypeKind::Option)).expect_err("null elem");
    assert_eq!(e.kind, ErrorKind::Null("type"));
    assert_eq!(e.path, "function `f`, parameter `x`, option value");

    static NO_CASES: TypeDesc = TypeDesc::with_fields(TypeKind::Enum, "e", &[]);
    let e = read_param(&NO_CASES).expect_err("empty enum");
    assert_eq!(e.kind, ErrorKind::NoMembers("enum case"));

    static FLAG: [FieldDesc; 65] = [FieldDesc::label("f"); 65];
    static FLAGS65: TypeDesc = TypeDesc::with_fields(TypeKind::Flags, "wide", &FLAG);
    let e = read_param(&FLAGS65).expect_err("65 flags");
    assert!(matches!(
        e.kind,
        ErrorKind::TooMany {
            what: "flag",
            count: 65,
            ..
        }
    ));

    static U8: TypeDesc = TypeDesc::scalar(TypeKind::U8);
    static FIELDS: [FieldDesc; 2] = [FieldDesc::new("a", &U8), FieldDesc::new("a", &U8)];
    static DUP_FIELDS: TypeDesc = TypeDesc::with_fields(TypeKind::Record, "r", &FIELDS);
    let e = read_param(&DUP_FIELDS).expect_err("duplicate field");
    assert!(matches!(e.kind, ErrorKind::Duplicate { what: "field", .. }));
}

#[test]
fn cycles_stop_at_the_depth_bound() {
    // An option whose element is itself: only a malformed graph can do this.
    let node = Box::into_raw(Box::new(TypeDesc::scalar(TypeKind::Option)));
    // SAFETY: a fresh allocation, written and read only through `node`, freed once below.
    let e = unsafe {
        (*node).elem = node;
        let e = read_param(&*node);
        drop(Box::from_raw(node));
        e
    }
    .expect_err("cycle");
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert_eq!(e.path.matches("option value").count(), MAX_DEPTH as usize);
}

#[test]
fn shared_nodes_stop_at_the_node_budget() {
    // A tuple of 4096 references to a tuple of 4096 `u8`s: 16 M nodes unfolded; reading stops at
    // the budget instead of walking them all.
    let u8_ty = TypeDesc::scalar(TypeKind::U8);
    let inner_fields = vec![
        FieldDesc {
            name: Str::EMPTY,
            ty: &u8_ty,
        };
        4096
    ];
    let inner = TypeDesc {
        field_count: 4096,
        fields: inner_fields.as_ptr(),
        ..TypeDesc::scalar(TypeKind::Tuple)
    };
    let outer_fields = vec![
        FieldDesc {
            name: Str::EMPTY,
            ty: &inner,
        };
        4096
    ];
    let outer = TypeDesc {
        field_count: 4096,
        fields: outer_fields.as_ptr(),
        ..TypeDesc::scalar(TypeKind::Tuple)
    };
    let e = read_param(&outer).expect_err("budget");
    assert_eq!(e.kind, ErrorKind::TooManyTypes);
}
