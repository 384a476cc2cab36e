use edgeport_frontends::{javascript::{analyze, Options}, SourceFile};
#[test]
fn deep() {
    for n in [10_000usize, 50_000, 200_000] {
        for (open, close) in [("[", "]"), ("(", ")"), ("{a:", "}"), ("-", ""), ("!", ""), ("a+", "a")] {
            let text = format!("exports.handler = async (event) => {}1{};", open.repeat(n), close.repeat(n));
            let t = std::time::Instant::now();
            let a = analyze(&SourceFile::new("x.ts", text), &Options::default());
            println!("{n} {open} {:?} errors={} {:?}", t.elapsed(), a.has_errors(), a.diagnostics.first().map(|d| &d.message));
        }
    }
}
