"""The product never imports the benchmark: no module outside datasets/ and evaluation/ imports
generec.datasets (the CLI package, which also hosts the benchmark's own commands, is the one shell allowed to)."""

import ast
from pathlib import Path

import generec

ROOT = Path(generec.__file__).parent
BENCHMARK = ("datasets", "evaluation")
SHELLS = ("cli",)  # packages: every module under generec/cli/ is exempt, a module named cli.py elsewhere is not


def benchmark_imports(source: str, package: str) -> list[str]:
    """The generec.datasets imports of a module's source; `package` is its dotted package."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from ..datasets import x
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        hits = [n for n in names if n == "generec.datasets" or n.startswith("generec.datasets.")]
        if hits:
            found.append(f"{node.lineno}: {hits[-1]}")
    return found


def exempt(path: Path) -> bool:
    """A module of the benchmark's packages, or one inside a shell package (not a module that shares its name)."""
    parts = path.relative_to(ROOT).parts
    return parts[0] in BENCHMARK or (len(parts) > 1 and parts[0] in SHELLS)


def test_no_product_module_imports_the_benchmark():
    modules = [p for p in ROOT.rglob("*.py") if not exempt(p)]
    assert len(modules) > 30 and ROOT / "editor" / "style.py" in modules
    offenders = [
        f"{p.relative_to(ROOT)}:{hit}"
        for p in modules
        for hit in benchmark_imports(p.read_text(), ".".join(("generec",) + p.relative_to(ROOT).parent.parts))
    ]
    assert not offenders, "the product imports the benchmark:\n" + "\n".join(offenders)


def test_only_the_cli_package_is_exempt():
    cli = sorted((ROOT / "cli").rglob("*.py"))
    assert ROOT / "cli" / "__init__.py" in cli and all(exempt(p) for p in cli)
    assert not exempt(ROOT / "cli.py") and not exempt(ROOT / "editor" / "cli.py") and not exempt(ROOT / "editor" / "cli" / "x.py")
    assert exempt(ROOT / "datasets" / "oracle.py") and not exempt(ROOT / "pipeline.py")


def test_the_scan_sees_every_form_of_import():
    source = (
        "import generec.datasets.styles\nfrom generec.datasets import styles\nfrom generec import datasets\n"
        "from ..datasets.styles import apply_style\nfrom . import looks\nimport generec.editor.looks\n"
    )
    hits = benchmark_imports(source, "generec.editor")
    assert [h.split(":")[0] for h in hits] == ["1", "2", "3", "4"], hits
