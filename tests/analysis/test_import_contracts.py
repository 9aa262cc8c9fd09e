"""The import-linter contracts in .importlinter hold: hiroba.analysis imports no Django and no
other hiroba package, and its modules import each other without cycles; hiroba.core imports no
other hiroba app, hiroba.accounts no domain app, and the layers (staff shell and API / domain
apps / accounts / core / analysis) are kept."""

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _lint_imports() -> list[str]:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert found, "import-linter is a dev dependency (pyproject.toml): pip install 'import-linter==2.16'"
    return [found]


def test_the_import_contracts_are_kept() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run([*_lint_imports(), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout, result.stdout


def _contracts() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    return [name for name in config.sections() if name.startswith("importlinter:contract:")]


def _packages() -> set[str]:
    """hiroba.<app> for every package directly under hiroba."""
    return {f"hiroba.{p.name}" for p in (SRC / "hiroba").iterdir() if (p / "__init__.py").exists()}


def test_core_is_forbidden_every_other_app_but_analysis() -> None:
    # a new app must be added to the list: core depends on nothing of hiroba but pure analysis
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    forbidden = set(config["importlinter:contract:core-is-the-base"]["forbidden_modules"].split())
    assert _packages() - {"hiroba.core", "hiroba.analysis"} <= forbidden, sorted(_packages() - forbidden)


def test_every_app_has_its_layer() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    layers = config["importlinter:contract:layers"]["layers"].replace("|", " ").replace(":", " ").split()
    assert _packages() <= {f"hiroba.{name}" for name in layers}, sorted(_packages())


def test_the_purity_contract_names_every_other_hiroba_package() -> None:
    # a new app (notices, records, security, …) must be added to the forbidden list
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    forbidden = set(config["importlinter:contract:analysis-is-pure"]["forbidden_modules"].split())
    siblings = {
        f"hiroba.{p.stem}"
        for p in (SRC / "hiroba").iterdir()
        if p.stem != "analysis" and (p.suffix == ".py" and p.stem != "__init__" or (p / "__init__.py").exists())
    }
    assert siblings <= forbidden, sorted(siblings - forbidden)
    assert "django" in forbidden


def test_a_cycle_inside_the_package_breaks_the_contract(tmp_path: Path) -> None:
    # the contract is not vacuous: the cycle it was written against (tokenize importing pii,
    # which imports tokenize) is reported
    pkg = tmp_path / "hiroba"
    shutil.copytree(SRC / "hiroba" / "analysis", pkg / "analysis")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    tok = pkg / "analysis" / "tokenize.py"
    tok.write_text(tok.read_text(encoding="utf-8") + "\n\ndef _cycle() -> None:\n    from hiroba.analysis import pii  # noqa\n",
                   encoding="utf-8")
    config = tmp_path / ".importlinter"
    config.write_text(
        "[importlinter]\nroot_package = hiroba\n\n[importlinter:contract:c]\nname = acyclic\n"
        "type = acyclic_siblings\nancestors =\n    hiroba.analysis\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([*_lint_imports(), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "BROKEN" in result.stdout, result.stdout + result.stderr
