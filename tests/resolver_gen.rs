//! The build-time generator of the static `dlsym` table (`minios/build/resolver.rs`).

#[path = "../minios/build/resolver.rs"]
mod resolver;

use std::collections::BTreeSet;

#[test]
fn finds_each_literal_once_in_order() {
    let src = r#"
        w->a = dlsym(w->handle, "xc_one");
        w->b = dlsym ( w->handle, "xc_two" );
        w->c = dlsym(w->handle, "xc_one");
        w->d = dlsym(w->handle, name_variable);
        /* dlsym is mentioned in a comment */
        if (dlclose(w->handle)) {}
    "#;
    assert_eq!(resolver::dlsym_names(src), ["xc_one", "xc_two"]);
}

#[test]
fn table_lists_provided_and_missing() {
    let wanted = ["xc_one".to_string(), "xc_gone".to_string()];
    let provided: BTreeSet<String> = ["xc_one".to_string()].into();
    let c = resolver::render_table(&wanted, &provided, "test");
    assert!(c.contains("extern void xc_one(void);"));
    assert!(c.contains("{ \"xc_one\", (void *)&xc_one },"));
    assert!(c.contains("tinyvmi_dl_symbols_len = 1;"));
    assert!(!c.contains("&xc_gone"));
    assert!(c.contains(" *   xc_gone"));
}
