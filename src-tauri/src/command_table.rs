//! The app's commands are written once, as `#[tauri::command]` functions; every other list of
//! them is generated from those signatures or checked against them here:
//!
//! - `ui/src/ipc/commands.ts`, the UI's `Commands` table (names, argument names as the UI sends
//!   them, argument and result types) and its `Events` table (the names `emit` is called with
//!   and their payload types), is generated (`UPDATE_BINDINGS=1 cargo test -p chatvault-app
//!   bindings` rewrites it, like `bindings.ts`);
//! - `generate_handler!` in lib.rs, the `AppManifest` list in build.rs and the `allow-…`
//!   permissions of capabilities/default.json must name exactly the same commands, else a test
//!   fails (a command missing from one of them is one the window cannot call).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::{FnArg, GenericArgument, Item, Pat, PathArguments, Type};

/// One `#[tauri::command]` function.
#[derive(Debug)]
struct Command {
    /// Its module, e.g. `commands::store` (as `generate_handler!` names it).
    module: String,
    name: String,
    /// The arguments the UI sends: camelCase name, TypeScript type, optional.
    args: Vec<(String, String, bool)>,
    result: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `commands/store.rs` → `commands::store`; `commands/mod.rs` → `commands`; `lib.rs` → ``.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src_dir()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn is_command(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let segs: Vec<String> = a
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        segs == ["tauri", "command"]
    })
}

/// Arguments Tauri fills in itself; the UI does not send them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "WebviewWindow", "Webview"];

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(r) => last_ident(&r.elem),
        _ => None,
    }
}

fn type_args(seg: &syn::PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The TypeScript of a Rust argument or result type as it crosses IPC (serde's JSON); named
/// types are ts-rs's, from `bindings.ts`, and are added to `imports`.
fn ts_type(ty: &Type, context: &str, imports: &mut BTreeSet<String>) -> String {
    let array = |inner: String| {
        if inner.contains(' ') {
            format!("({inner})[]")
        } else {
            format!("{inner}[]")
        }
    };
    match ty {
        Type::Reference(r) => ts_type(&r.elem, context, imports),
        Type::Tuple(t) if t.elems.is_empty() => "null".into(),
        Type::Slice(s) => array(ts_type(&s.elem, context, imports)),
        Type::Path(p) => {
            let seg = p.path.segments.last().unwrap();
            let name = seg.ident.to_string();
            let generics = type_args(seg);
            match name.as_str() {
                "String" | "str" | "PathBuf" | "Path" | "Timestamp" => "string".into(),
                "bool" => "boolean".into(),
                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize"
                | "f32" | "f64" => "number".into(),
                "Option" => format!("{} | null", ts_type(generics[0], context, imports)),
                "Vec" => array(ts_type(generics[0], context, imports)),
                // The error side is always the wire error (`HostError` in the UI).
                "Result" | "CmdResult" => ts_type(generics[0], context, imports),
                _ => {
                    assert!(
                        generics.is_empty(),
                        "{context}: no TypeScript for the generic type {name}<…>; \
                         teach command_table.rs or use a named type"
                    );
                    imports.insert(name.clone());
                    name
                }
            }
        }
        _ => panic!("{context}: no TypeScript for this type; teach command_table.rs"),
    }
}

/// Tauri's default: a command's snake_case arguments are sent in camelCase.
fn camel_case(s: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `#[tauri::command]` of the shell, read from its source.
fn commands(imports: &mut BTreeSet<String>) -> Vec<Command> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for item in parsed.items {
            let Item::Fn(f) = item else { continue };
            if !is_command(&f.attrs) {
                continue;
            }
            let name = f.sig.ident.to_string();
            let mut args = Vec::new();
            for input in &f.sig.inputs {
                let FnArg::Typed(arg) = input else {
                    panic!("{name}: a command takes no self")
                };
                if last_ident(&arg.ty).is_some_and(|t| INJECTED.contains(&t.as_str())) {
                    continue;
                }
                let Pat::Ident(ident) = &*arg.pat else {
                    panic!("{name}: arguments are plain names")
                };
                let arg_name = ident.ident.to_string();
                let context = format!("{name}({arg_name})");
                let optional = last_ident(&arg.ty).as_deref() == Some("Option");
                args.push((
                    camel_case(&arg_name),
                    ts_type(&arg.ty, &context, imports),
                    optional,
                ));
            }
            let result = match &f.sig.output {
                syn::ReturnType::Default => "null".into(),
                syn::ReturnType::Type(_, ty) => ts_type(ty, &name, imports),
            };
            out.push(Command {
                module: module_of(&file),
                name,
                args,
                result,
            });
        }
    }
    out
}

/// Every event the shell sends: `….emit("name", Payload { … })` anywhere in its source, by
/// name, with the payload's type (a named struct, so that ts-rs exports it).
fn events() -> Vec<(String, String)> {
    use syn::visit::Visit;
    struct Emits(Vec<(String, String)>, String);
    impl<'ast> Visit<'ast> for Emits {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if call.method == "emit" && call.args.len() == 2 {
                let name = match &call.args[0] {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => s.value(),
                    _ => panic!("{}: an event's name is a string literal", self.1),
                };
                let payload = match &call.args[1] {
                    syn::Expr::Struct(s) => s.path.segments.last().unwrap().ident.to_string(),
                    _ => panic!(
                        "{}: the payload of `{name}` is a named struct literal (for its TS type)",
                        self.1
                    ),
                };
                assert!(
                    !self.0.iter().any(|(n, p)| n == &name && p != &payload),
                    "event `{name}` is sent with two payload types"
                );
                if !self.0.iter().any(|(n, _)| n == &name) {
                    self.0.push((name, payload));
                }
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut emits = Emits(Vec::new(), String::new());
    for file in files {
        emits.1 = file.display().to_string();
        let parsed = syn::parse_file(&std::fs::read_to_string(&file).unwrap()).unwrap();
        emits.visit_file(&parsed);
    }
    emits.0.sort();
    emits.0
}

/// The paths listed in `tauri::generate_handler![…]` in lib.rs.
fn handler_paths() -> Vec<String> {
    let text = std::fs::read_to_string(src_dir().join("lib.rs")).unwrap();
    let start = text
        .find("generate_handler![")
        .expect("generate_handler! in lib.rs")
        + "generate_handler![".len();
    let end = start + text[start..].find(']').unwrap();
    text[start..end]
        .split(',')
        .map(|p| p.split_whitespace().collect::<String>())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The names in build.rs's `AppManifest::commands(&[…])`.
fn build_rs_names() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find(".commands(&[").expect(".commands(&[ in build.rs") + ".commands(&[".len();
    let end = start + text[start..].find(']').unwrap();
    text[start..end]
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The app commands capabilities/default.json allows (`allow-app-info` → `app_info`).
fn capability_names() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/default.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| !p.contains(':'))
        .map(|p| {
            p.strip_prefix("allow-")
                .unwrap_or_else(|| panic!("capabilities: {p} is not an allow- permission"))
                .replace('-', "_")
        })
        .collect()
}

/// `ui/src/ipc/commands.ts`: the commands in the order of `generate_handler!`, then the events.
fn typescript_commands() -> String {
    let mut imports = BTreeSet::new();
    let found = commands(&mut imports);
    let mut body = String::new();
    for path in handler_paths() {
        let name = path.rsplit("::").next().unwrap();
        let Some(c) = found.iter().find(|c| c.name == name) else {
            continue;
        };
        let args = if c.args.is_empty() {
            "Record<string, never>".to_string()
        } else {
            let fields: Vec<String> = c
                .args
                .iter()
                .map(|(n, t, optional)| format!("{n}{}: {t}", if *optional { "?" } else { "" }))
                .collect();
            format!("{{ {} }}", fields.join("; "))
        };
        body.push_str(&format!(
            "  {}: {{ args: {args}; result: {} }};\n",
            c.name, c.result
        ));
    }
    let mut event_rows = String::new();
    for (name, payload) in events() {
        event_rows.push_str(&format!("  \"{name}\": {payload};\n"));
        imports.insert(payload);
    }
    let imports: Vec<String> = imports.into_iter().collect();
    format!(
        "// Generated from the #[tauri::command] signatures and the `emit` calls by\n\
         // src-tauri/src/command_table.rs. Do not edit by hand: run\n\
         // `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` after changing them.\n\n\
         import type {{ {} }} from \"./bindings\";\n\n\
         /** Every host command: its arguments (named as the UI sends them) and its result. */\n\
         export interface Commands {{\n{body}}}\n\n\
         /** Events the host sends, by name, with their payload. */\n\
         export interface Events {{\n{event_rows}}}\n",
        imports.join(", ")
    )
}

#[test]
fn every_list_of_commands_names_the_same_commands() {
    let mut imports = BTreeSet::new();
    let found = commands(&mut imports);
    let defined: Vec<String> = found
        .iter()
        .map(|c| {
            if c.module.is_empty() {
                c.name.clone()
            } else {
                format!("{}::{}", c.module, c.name)
            }
        })
        .collect();
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let names: Vec<String> = found.iter().map(|c| c.name.clone()).collect();
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "two commands share a name");
    assert!(names.len() > 40, "found only {} commands", names.len());

    let handler = handler_paths();
    assert_eq!(
        sorted(&handler),
        sorted(&defined),
        "generate_handler! in lib.rs must list every #[tauri::command] (by its module path)"
    );
    assert_eq!(
        sorted(&build_rs_names()),
        sorted(&names),
        "build.rs's AppManifest::commands must list every #[tauri::command]"
    );
    assert_eq!(
        sorted(&capability_names()),
        sorted(&names),
        "capabilities/default.json must allow every #[tauri::command] (allow-<name-with-dashes>)"
    );
}

#[test]
fn command_bindings_match_the_rust_signatures() {
    crate::ipc::check_generated(
        "commands.ts",
        &typescript_commands(),
        "the #[tauri::command] signatures",
    );
}

#[test]
fn argument_names_are_sent_in_camel_case_and_options_may_be_left_out() {
    assert_eq!(camel_case("job_id"), "jobId");
    assert_eq!(camel_case("skip_on_battery"), "skipOnBattery");
    assert_eq!(camel_case("url"), "url");
    let mut imports = BTreeSet::new();
    let set_schedule = commands(&mut imports)
        .into_iter()
        .find(|c| c.name == "set_schedule")
        .unwrap();
    assert_eq!(
        set_schedule.args,
        vec![
            ("name".into(), "string".into(), false),
            ("rule".into(), "string | null".into(), true),
            ("skipOnBattery".into(), "boolean | null".into(), true),
            ("skipOnMetered".into(), "boolean | null".into(), true),
        ]
    );
    assert_eq!(set_schedule.result, "null");
    assert!(events().contains(&("schedule-run".into(), "ScheduleRun".into())));
}
