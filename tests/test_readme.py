"""Every Python block of the README runs as written, in order, in one namespace (as a
reader pasting them into one notebook would), and prints what the README says it
prints.

- A block preceded by the line `<!-- readme: template -->` is a template (a file the
  user supplies, a path to fill in) and the text around it says so: it is skipped.
- Expected output: comment lines right after a `print(...)` line of a block, e.g.
  `# hopf  -0.359038459564185  (...)  omega=0.4981593198`. Each must match one printed
  line of that block, with `...` matching anything and runs of spaces any whitespace.
"""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
TEMPLATE = "<!-- readme: template -->"


def blocks():
    """`[(line number, code, is_template)]` of the README's ```python blocks."""
    lines = README.read_text().splitlines()
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i + 1
            j = start
            while lines[j].strip() != "```":
                j += 1
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            out.append((start + 1, "\n".join(lines[start:j]),
                        k >= 0 and lines[k].strip() == TEMPLATE))
            i = j
        i += 1
    return out


def expected_lines(code: str) -> list[str]:
    """Comment lines that follow a `print(` line (the output the README shows)."""
    out = []
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("print("):
            for nxt in lines[i + 1:]:
                s = nxt.strip()
                if not s.startswith("# "):
                    break
                out.append(s[2:])
    return out


def _pattern(text: str):
    parts = [re.escape(p) for p in text.split("...")]
    body = ".*".join(parts)
    body = re.sub(r"(\\ )+", r"\\s+", body)
    return re.compile(body)


def test_readme_blocks_run_and_print_what_they_show(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # files a block writes land here
    namespace: dict = {"__name__": "__readme__"}
    found = blocks()
    assert len(found) >= 10
    for line, code, template in found:
        if template:
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(code, f"README.md:{line}", "exec"), namespace)
            except Exception as e:  # the block as written fails: say which one
                pytest.fail(f"README block at line {line} fails as written: "
                            f"{type(e).__name__}: {e}")
        printed = buf.getvalue().splitlines()
        for want in expected_lines(code):
            pat = _pattern(want)
            assert any(pat.search(p) for p in printed), (
                f"README block at line {line}: no printed line matches {want!r}; "
                f"printed:\n" + "\n".join(printed))
        plt.close("all")
