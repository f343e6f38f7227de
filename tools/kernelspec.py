"""`make kernelspec`: every notebook in nbs/ names the project's kernel, and carries no other notebook metadata

JupyterLab, papermill and nbclient start the kernel a notebook's `kernelspec` names; a notebook without one makes
JupyterLab ask "Select Kernel". This tool checks (`--check`, what the drift check runs) or sets (the default) the
notebook metadata of every notebook under nbs/ to exactly `KERNELSPEC` and `LANGUAGE_INFO`: nothing else is kept
(no jupytext filters, no Python version from the last machine that saved it).

The display name is the kernel's name because nbdev-clean writes `display_name = name` on every clean; the kernel
`make env` registers is shown in JupyterLab under its own display name, "Python (kuril-research)".

A development tool, not part of the installed package: run it with `make kernelspec`."""
from __future__ import annotations
import argparse, json, os, sys
from pathlib import Path

KERNEL = "kuril-research"  # the kernel `make env` registers (`ipykernel install --sys-prefix --name kuril-research`)
KERNELSPEC = {"display_name": KERNEL, "language": "python", "name": KERNEL}
LANGUAGE_INFO = {"name": "python"}
METADATA = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
TOP = Path(__file__).resolve().parent.parent


def notebooks(root:Path) -> list: # the folder to search (nbs/)
    "Every notebook under `root`, checkpoints and `_`/`.` folders left out (as nbdev does)."
    return sorted(p for p in root.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts[:-1]))


def problems(meta:dict) -> list: # a notebook's `metadata`
    "What is wrong with one notebook's metadata, in words; empty when it is exactly `METADATA`."
    out = []
    ks = meta.get("kernelspec")
    if ks is None: out.append(f"no kernelspec (wants {KERNELSPEC})")
    elif ks != KERNELSPEC: out.append(f"kernelspec {ks} (wants {KERNELSPEC})")
    li = meta.get("language_info")
    if li != LANGUAGE_INFO: out.append(f"language_info {li} (wants {LANGUAGE_INFO})")
    stray = sorted(set(meta) - set(METADATA))
    if stray: out.append(f"stray metadata {', '.join(stray)}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report notebooks that differ; exit 1 if any")
    ap.add_argument("paths", nargs="*", type=Path, help="notebooks to check or fix (default: every notebook in nbs/)")
    a = ap.parse_args(argv)
    paths = a.paths or notebooks(TOP / "nbs")
    bad = 0
    for p in paths:
        nb = json.loads(p.read_text(encoding="utf-8"))
        found = problems(nb.get("metadata", {}))
        if not found: continue
        name = os.path.relpath(p)
        bad += 1
        if a.check: print(f"{name}: {'; '.join(found)}", file=sys.stderr)
        else:
            nb["metadata"] = json.loads(json.dumps(METADATA))
            p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{name}: kernelspec set ({'; '.join(found)})")
    if a.check and bad:
        print(f"kernelspec: {bad} notebook(s) do not name the project's kernel exactly; run `make kernelspec`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__": sys.exit(main())
