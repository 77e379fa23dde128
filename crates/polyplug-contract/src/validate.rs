//! The rules a contract must follow, checked in one place for every way a contract is made.

use crate::error::{ContractError, ErrorKind, Located};
use crate::limits::{MAX_DEPTH, MAX_FLAGS, MAX_FUNCTIONS, MAX_MEMBERS, MAX_TYPE_NODES};
use crate::model::{Contract, Function, Type};
use crate::names::{is_contract_name, is_ident};
use std::collections::{HashMap, HashSet};

impl Contract {
    /// Checks the contract against polyplug's rules: a `namespace:package/interface` name;
    /// lowercase kebab-case names for functions, parameters, fields, cases, flags and types;
    /// no duplicate names in one list; no empty record, tuple, enum or flags type; at most
    /// [`MAX_FLAGS`] flags; the bounds of [`crate::limits`]; `list<u8>` spelled
    /// [`Type::Bytes`]; and one definition per type name.
    pub fn validate(&self) -> Result<(), ContractError> {
        self.check().map_err(|e| e.finish(self.to_string()))
    }

    fn check(&self) -> Result<(), Located> {
        if !is_contract_name(&self.name) {
            return Err(ErrorKind::ContractName(self.name.clone()).into());
        }
        bounded("functions", self.functions.len(), MAX_FUNCTIONS)?;
        let mut names = HashSet::new();
        let mut types = TypeChecker::default();
        for (i, f) in self.functions.iter().enumerate() {
            fresh("function", &f.name, &mut names)
                .map_err(Located::from)
                .and_then(|()| check_function(f, &mut types))
                .map_err(|e| e.in_function(i, &f.name))?;
        }
        Ok(())
    }
}

fn check_function<'a>(f: &'a Function, types: &mut TypeChecker<'a>) -> Result<(), Located> {
    bounded("parameters", f.params.len(), MAX_MEMBERS)?;
    unique("parameter", f.params.iter().map(|p| p.name.as_str()))?;
    for p in &f.params {
        types
            .check(&p.ty, 1)
            .map_err(|e| e.within(format!("parameter `{}`", p.name)))?;
    }
    if let Some(r) = &f.result {
        types.check(r, 1).map_err(|e| e.within("result".into()))?;
    }
    Ok(())
}

/// Fails when a list is longer than its bound.
pub(crate) fn bounded(what: &'static str, count: usize, max: usize) -> Result<(), ErrorKind> {
    if count > max {
        return Err(ErrorKind::TooMany {
            what,
            count: count as u64,
            max: max as u64,
        });
    }
    Ok(())
}

/// Fails on the first name that is not an identifier or repeats an earlier one.
fn unique<'a>(what: &'static str, names: impl Iterator<Item = &'a str>) -> Result<(), ErrorKind> {
    let mut seen = HashSet::new();
    names
        .into_iter()
        .try_for_each(|name| fresh(what, name, &mut seen))
}

/// Fails when `name` is not an identifier or is already in `seen`; adds it otherwise.
fn fresh<'a>(
    what: &'static str,
    name: &'a str,
    seen: &mut HashSet<&'a str>,
) -> Result<(), ErrorKind> {
    if !is_ident(name) {
        return Err(ErrorKind::Name {
            what,
            name: name.to_owned(),
        });
    }
    if !seen.insert(name) {
        return Err(ErrorKind::Duplicate {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Members of a record, tuple, enum or flags type: at least one, at most `max`.
fn members(what: &'static str, count: usize, max: usize) -> Result<(), ErrorKind> {
    if count == 0 {
        return Err(ErrorKind::NoMembers(what));
    }
    bounded(what, count, max)
}

/// Walks every type of one contract, sharing the node budget and the table of type names.
#[derive(Default)]
struct TypeChecker<'a> {
    nodes: usize,
    named: HashMap<&'a str, &'a Type>,
}

impl<'a> TypeChecker<'a> {
    /// `depth` is the level of `ty`: 1 for a parameter or result type.
    fn check(&mut self, ty: &'a Type, depth: u32) -> Result<(), Located> {
        if depth > MAX_DEPTH {
            return Err(ErrorKind::TooDeep.into());
        }
        self.nodes += 1;
        if self.nodes > MAX_TYPE_NODES {
            return Err(ErrorKind::TooManyTypes.into());
        }
        if let Some(name) = ty.name() {
            self.check_name(name, ty)?;
        }
        let next = depth + 1;
        match ty {
            Type::List(elem) if **elem == Type::U8 => {
                return Err(ErrorKind::NonCanonicalBytes.into())
            }
            Type::List(elem) => self
                .check(elem, next)
                .map_err(|e| e.within("list element".into()))?,
            Type::Option(value) => self
                .check(value, next)
                .map_err(|e| e.within("option value".into()))?,
            Type::Result { ok, err } => {
                if let Some(ok) = ok {
                    self.check(ok, next)
                        .map_err(|e| e.within("ok payload".into()))?;
                }
                if let Some(err) = err {
                    self.check(err, next)
                        .map_err(|e| e.within("err payload".into()))?;
                }
            }
            Type::Record { fields, .. } => {
                members("record field", fields.len(), MAX_MEMBERS)?;
                unique("field", fields.iter().map(|(n, _)| n.as_str()))?;
                for (n, t) in fields {
                    self.check(t, next)
                        .map_err(|e| e.within(format!("field `{n}`")))?;
                }
            }
            Type::Tuple(elems) => {
                members("tuple element", elems.len(), MAX_MEMBERS)?;
                for (i, t) in elems.iter().enumerate() {
                    self.check(t, next)
                        .map_err(|e| e.within(format!("tuple element {i}")))?;
                }
            }
            Type::Enum { cases, .. } => {
                members("enum case", cases.len(), MAX_MEMBERS)?;
                unique("enum case", cases.iter().map(String::as_str))?;
            }
            Type::Flags { flags, .. } => {
                members("flag", flags.len(), MAX_FLAGS)?;
                unique("flag", flags.iter().map(String::as_str))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A named type: a valid name, and the same definition wherever the name appears.
    fn check_name(&mut self, name: &'a str, ty: &'a Type) -> Result<(), Located> {
        if name.is_empty() {
            return Ok(());
        }
        if !is_ident(name) {
            return Err(ErrorKind::Name {
                what: "type",
                name: name.to_owned(),
            }
            .into());
        }
        match self.named.get(name) {
            Some(prev) if *prev != ty => Err(ErrorKind::ConflictingType(name.to_owned()).into()),
            Some(_) => Ok(()),
            None => {
                self.named.insert(name, ty);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Param;
    use polyplug_abi::Version;

    fn contract(functions: Vec<Function>) -> Contract {
        Contract::new("t:c/api", Version::new(1, 0, 0), functions)
    }

    fn with_param(ty: Type) -> Contract {
        contract(vec![Function::new("f", vec![Param::new("x", ty)], None)])
    }

    fn kind_of(c: &Contract) -> ErrorKind {
        c.validate().expect_err("invalid").kind
    }

    fn record(name: &str, fields: Vec<(&str, Type)>) -> Type {
        Type::Record {
            name: name.into(),
            fields: fields.into_iter().map(|(n, t)| (n.into(), t)).collect(),
        }
    }

    #[test]
    fn good_contracts_pass() {
        let point = record("point", vec![("x", Type::S32), ("y", Type::S32)]);
        let c = contract(vec![
            Function::new(
                "move",
                vec![
                    Param::new("p", point.clone()),
                    Param::new("by", point.clone()),
                ],
                Some(Type::result(Some(point), Some(Type::String))),
            ),
            Function::new("noop", vec![], None),
        ]);
        c.validate().expect("valid");
    }

    #[test]
    fn names_are_checked() {
        let mut c = contract(vec![]);
        c.name = "nope".into();
        assert_eq!(kind_of(&c), ErrorKind::ContractName("nope".into()));
        let c = contract(vec![Function::new("Get", vec![], None)]);
        assert!(matches!(
            kind_of(&c),
            ErrorKind::Name {
                what: "function",
                ..
            }
        ));
        let c = contract(vec![
            Function::new("f", vec![], None),
            Function::new("f", vec![], None),
        ]);
        assert!(matches!(
            kind_of(&c),
            ErrorKind::Duplicate {
                what: "function",
                ..
            }
        ));
        let c = contract(vec![Function::new(
            "f",
            vec![Param::new("a", Type::U8), Param::new("a", Type::U8)],
            None,
        )]);
        assert!(matches!(
            kind_of(&c),
            ErrorKind::Duplicate {
                what: "parameter",
                ..
            }
        ));
        let c = with_param(record("R", vec![("a", Type::U8)]));
        assert!(matches!(kind_of(&c), ErrorKind::Name { what: "type", .. }));
        let c = with_param(Type::Enum {
            name: "e".into(),
            cases: vec!["a".into(), "a".into()],
        });
        assert!(matches!(
            kind_of(&c),
            ErrorKind::Duplicate {
                what: "enum case",
                ..
            }
        ));
        // Anonymous types are allowed: raw descriptors may omit names.
        with_param(record("", vec![("a", Type::U8)]))
            .validate()
            .expect("anonymous record");
    }

    #[test]
    fn shapes_are_checked() {
        assert_eq!(
            kind_of(&with_param(record("r", vec![]))),
            ErrorKind::NoMembers("record field")
        );
        assert_eq!(
            kind_of(&with_param(Type::Tuple(vec![]))),
            ErrorKind::NoMembers("tuple element")
        );
        let flags = |n: usize| Type::Flags {
            name: "f".into(),
            flags: (0..n).map(|i| format!("f{i}")).collect(),
        };
        with_param(flags(64)).validate().expect("64 flags");
        assert!(matches!(
            kind_of(&with_param(flags(65))),
            ErrorKind::TooMany {
                what: "flag",
                count: 65,
                ..
            }
        ));
        assert_eq!(
            kind_of(&with_param(Type::List(Box::new(Type::U8)))),
            ErrorKind::NonCanonicalBytes
        );
        let a = record("r", vec![("a", Type::U8)]);
        let b = record("r", vec![("b", Type::U8)]);
        assert_eq!(
            kind_of(&with_param(Type::Tuple(vec![a, b]))),
            ErrorKind::ConflictingType("r".into())
        );
    }

    #[test]
    fn bounds_are_checked() {
        let mut deep = Type::U8;
        for _ in 1..MAX_DEPTH {
            deep = Type::option(deep);
        }
        with_param(deep.clone()).validate().expect("at the bound");
        let e = with_param(Type::option(deep))
            .validate()
            .expect_err("too deep");
        assert_eq!(e.kind, ErrorKind::TooDeep);
        assert!(e
            .path
            .starts_with("function `f`, parameter `x`, option value"));

        // 17 parameters of 4096 nodes each pass the per-contract budget of 65536.
        let wide = Type::Tuple(vec![Type::U8; MAX_MEMBERS - 1]);
        let params = (0..17)
            .map(|i| Param::new(format!("p{i}"), wide.clone()))
            .collect();
        let c = contract(vec![Function::new("f", params, None)]);
        assert_eq!(kind_of(&c), ErrorKind::TooManyTypes);

        let many = (0..=MAX_FUNCTIONS)
            .map(|i| Function::new(format!("f{i}"), vec![], None))
            .collect();
        assert!(matches!(
            kind_of(&contract(many)),
            ErrorKind::TooMany {
                what: "functions",
                ..
            }
        ));
    }
}
