"""The package's imports form no circle (lazy imports inside functions count too: a lazy import back is still a
circle between two modules), and importing the CLI leaves matplotlib's backend alone."""
import ast
import subprocess
import sys
from pathlib import Path

import pixinwav

PACKAGE = Path(pixinwav.__file__).parent


def module_name(path: Path) -> str:
    parts = ["pixinwav", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str) -> set[str]:
    """Modules of the package that ``path`` imports, anywhere in it. Importing a name from a package (``from .
    import metrics``) is an edge to the submodule when there is one; ancestors of ``name`` are left out (a
    package's ``__init__`` importing its own submodules is how packages work)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if node.level or target.startswith("pixinwav"):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("pixinwav"))
    return {m for m in out if not name.startswith(m + ".") and m != "pixinwav"}


def test_no_import_circle():
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: {m for m in imports(path, name) if m in modules and m != name} for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert "pixinwav.models.base" in graph and graph["pixinwav.models.modulo"] >= {"pixinwav.models.base"}


def test_edges_include_lazy_and_relative_imports(tmp_path):
    (tmp_path / "a.py").write_text("from .b import x\n\ndef f():\n    from .models import c\n")
    assert imports(tmp_path / "a.py", "pixinwav.a") == {"pixinwav.b", "pixinwav.b.x", "pixinwav.models",
                                                         "pixinwav.models.c"}


def test_importing_the_cli_keeps_the_matplotlib_backend():
    code = ("import matplotlib; before = matplotlib.get_backend(); import pixinwav.cli, pixinwav.figures; "
            "print(before == matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_listing_the_models_and_reading_audio_take_no_torch(tmp_path):
    """`pixinwav info` (the shipped models) and an audio file's facts answer without torch's 1 s import."""
    import numpy as np
    import soundfile as sf

    song = tmp_path / "song.wav"
    sf.write(song, np.zeros((4410, 2), np.float32), 44100, subtype="PCM_16")
    code = ("import sys; from pixinwav.cli import main; assert main(['info']) == 0; "
            f"assert main(['info', {str(song)!r}]) == 0; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pixinwav-adaptive-v5 (default)" in out.stdout and out.stdout.strip().endswith("False")


def test_the_models_without_nets_hide_reveal_and_measure_without_torch(tmp_path):
    """Every shipped model without a net (NumPy arithmetic): the song models (the default, robust-v2, modulo-v2) run
    `hide`, `reveal`, `hide --file` and `capacity` from the command line without importing torch (0.7 s and 220 MiB
    of every command's start), and the window models (adaptive-v1, adaptive-v2, modulo-v1, robust-v1) their window."""
    import numpy as np
    import soundfile as sf

    clip, rate = sf.read(PACKAGE / "assets" / "drascula-track2-12s.ogg", dtype="float32", always_2d=True)
    song = tmp_path / "song.wav"
    sf.write(song, np.tile(clip, (6, 1)), rate, subtype="PCM_16")  # 72 s: the robust model's least is about 45 s
    photo, note = PACKAGE / "assets" / "astronaut.jpg", tmp_path / "note.txt"
    note.write_text("hidden without torch\n")
    runs = []
    for model in ("pixinwav-adaptive-v5", "pixinwav-robust-v2", "pixinwav-modulo-v2"):
        stego, back, stego_file = tmp_path / f"{model}.wav", tmp_path / f"{model}.png", tmp_path / f"{model}-file.wav"
        runs += [["hide", "--image", str(photo), "--cover", str(song), "-o", str(stego), "--model", model],
                 ["reveal", str(stego), "-o", str(back), "--model", model],
                 ["hide", "--file", str(note), "--cover", str(song), "-o", str(stego_file), "--model", model],
                 ["reveal", str(stego_file), "-o", str(tmp_path / f"{model}-note.txt"), "--model", model],
                 ["capacity", str(song), "--model", model]]
    for model, where in (("pixinwav-adaptive-v2", ["--offset", "auto"]), ("pixinwav-robust-v1", []),  # (one image each)
                         ("pixinwav-modulo-v1", ["--offset", "auto"]), ("pixinwav-adaptive-v1", ["--offset", "2.5"])):
        stego = tmp_path / f"{model}.wav"
        runs += [["hide", "--image", str(photo), "--cover", str(song), "-o", str(stego), "--model", model, *where],
                 ["reveal", str(stego), "-o", str(tmp_path / f"{model}.png"), "--model", model, *where]]
    code = (f"import sys; from pixinwav.cli import main\nfor args in {runs!r}:\n    assert main(args) == 0, args\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "pixinwav-robust-v2-note.txt").read_text() == note.read_text()
    assert (tmp_path / "pixinwav-adaptive-v5-note.txt").read_text() == note.read_text()
    assert (tmp_path / "pixinwav-modulo-v2-note.txt").read_text() == note.read_text()


def test_a_model_card_loads_without_the_heavy_libraries():
    """`pixinwav info MODEL` loads the model (its file hash-checked, its scheme built) for every shipped model
    without a net, importing none of SciPy's submodules, numba or torch: they are most of a command's start (with
    them `info` took 0.50 s here, without 0.26 s: `benchmarks/bench_commands.py --startup`). A module that needs
    one takes it when it first computes (``import scipy`` alone loads its submodules on first use)."""
    from pixinwav.loader import registry

    heavy = ("scipy.fft", "scipy.sparse", "scipy.ndimage", "scipy.linalg", "scipy.signal", "numba", "torch")
    code = ("import sys; from pixinwav.cli import main\n"
            f"for name in {[n for n in registry() if n != 'pixinwav-small-v0']!r}:\n"
            "    assert main(['info', name]) == 0, name\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pixinwav-adaptive-v5" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]"


def test_a_songs_capacity_by_the_default_model_is_measured_without_numba(tmp_path):
    """`pixinwav capacity` with the default model estimates each window's room (its steps, noise and
    ``levels.capacity``'s table, whose soft bits NumPy computes): numba, which the decoders, the compiled soft bits and
    the rounding loop need, is 0.35 s of import it would not use. (A window near full scale in any channel is probed,
    as `hide` probes it, which takes the rounding loop: the bundled clip at half its level has none.)"""
    import soundfile as sf

    clip, rate = sf.read(PACKAGE / "assets" / "drascula-track2-12s.ogg", dtype="float32")
    song = tmp_path / "song.wav"
    sf.write(song, clip * 0.5, rate, subtype="PCM_16")
    code = (f"import sys; from pixinwav.cli import main; assert main(['capacity', {str(song)!r}]) == 0; "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "windows of 1.53 s are loud enough" in out.stdout and out.stdout.strip().endswith("False"), out.stdout
