//! What the `#[gateway]` attribute says about declarations it cannot take: each case in
//! `tests/ui/` fails to compile with the message next to it.

#[test]
fn wrong_declarations_are_explained() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
