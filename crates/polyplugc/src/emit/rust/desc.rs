//! The contract's static descriptor graph (`pub static CONTRACT: ContractDesc`), built with the
//! `const` constructors of `polyplug_abi::types`: one `static` per distinct type, children first.

use super::Out;
use polyplug_contract::{Contract, Type};

/// Emits `CONTRACT` and the private `desc` module holding its nodes.
pub fn descriptors(o: &mut Out, contract: &Contract) {
    let mut g = Graph::default();
    let mut funcs = Vec::new();
    for f in &contract.functions {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("FieldDesc::new({:?}, &{})", p.name, g.node(&p.ty)))
            .collect();
        let params = if params.is_empty() {
            "&[]".to_owned()
        } else {
            let name = format!("PARAMS_{}", funcs.len());
            g.statics.push(format!(
                "static {name}: [FieldDesc; {}] = [{}];",
                params.len(),
                params.join(", ")
            ));
            format!("&{name}")
        };
        let result = match &f.result {
            Some(r) => format!("Some(&{})", g.node(r)),
            None => "None".to_owned(),
        };
        funcs.push(format!("FuncDesc::new({:?}, {params}, {result})", f.name));
    }
    let v = contract.version;
    o.blank();
    o.line(format!(
        "/// `{contract}`, described as data: what a provider registers.",
    ));
    o.line(format!(
        "pub static CONTRACT: pp::abi::ContractDesc = pp::abi::ContractDesc::new(NAME, pp::abi::Version::new({}, {}, {}), &desc::FUNCS);",
        v.major, v.minor, v.patch
    ));
    o.blank();
    o.line("/// The nodes of [`CONTRACT`]'s descriptor graph.");
    o.open("mod desc {");
    o.line("use super::pp::abi::{FieldDesc, FuncDesc, TypeDesc, TypeKind};");
    for s in &g.statics {
        o.line(s);
    }
    o.line(format!(
        "pub(super) static FUNCS: [FuncDesc; {}] = [{}];",
        funcs.len(),
        funcs.join(", ")
    ));
    o.close("}");
}

#[derive(Default)]
struct Graph {
    /// Each distinct type and the name of its static.
    nodes: Vec<(Type, String)>,
    statics: Vec<String>,
}

impl Graph {
    /// The static describing `ty`, emitted (after its children) on first use.
    fn node(&mut self, ty: &Type) -> String {
        if let Some((_, name)) = self.nodes.iter().find(|(t, _)| t == ty) {
            return name.clone();
        }
        let kind = format!("TypeKind::{:?}", ty.kind());
        let init = match ty {
            Type::List(e) | Type::Option(e) => {
                format!("TypeDesc::wrapping({kind}, &{})", self.node(e))
            }
            Type::Result { ok, err } => {
                let mut side = |t: &Option<Box<Type>>| match t {
                    Some(t) => format!("Some(&{})", self.node(t)),
                    None => "None".to_owned(),
                };
                let (ok, err) = (side(ok), side(err));
                format!("TypeDesc::result({ok}, {err})")
            }
            Type::Record { name, fields } => {
                let members: Vec<String> = fields
                    .iter()
                    .map(|(n, t)| format!("FieldDesc::new({n:?}, &{})", self.node(t)))
                    .collect();
                self.with_fields(&kind, name, members)
            }
            Type::Tuple(elems) => {
                let members: Vec<String> = elems
                    .iter()
                    .map(|t| format!("FieldDesc::new(\"\", &{})", self.node(t)))
                    .collect();
                self.with_fields(&kind, "", members)
            }
            Type::Enum {
                name,
                cases: labels,
            }
            | Type::Flags {
                name,
                flags: labels,
            } => {
                let members: Vec<String> = labels
                    .iter()
                    .map(|l| format!("FieldDesc::label({l:?})"))
                    .collect();
                self.with_fields(&kind, name, members)
            }
            _ => format!("TypeDesc::scalar({kind})"),
        };
        let name = format!("T{}", self.nodes.len());
        self.statics
            .push(format!("static {name}: TypeDesc = {init};"));
        self.nodes.push((ty.clone(), name.clone()));
        name
    }

    fn with_fields(&mut self, kind: &str, name: &str, members: Vec<String>) -> String {
        let fields = format!("M{}", self.statics.len());
        self.statics.push(format!(
            "static {fields}: [FieldDesc; {}] = [{}];",
            members.len(),
            members.join(", ")
        ));
        format!("TypeDesc::with_fields({kind}, {name:?}, &{fields})")
    }
}
