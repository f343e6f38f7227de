"""`make env` / `make lab`: the environment's own JupyterLab settings — the project's kernel, nothing fetched from outside

Written into the environment (`sys.prefix`, i.e. `.venv`), never into a person's home folder, so every checkout's
lab behaves the same and a person's own settings stay theirs:

- `share/jupyter/lab/settings/page_config.json`: the news, update-check and extension-manager plugins are disabled;
- `share/jupyter/lab/settings/overrides.json`: default settings to match (no news, no update check, no extension
  manager), in case one of those plugins is enabled again;
- `etc/jupyter/jupyter_server_config.json` (merged into what is there): the server side — no news feed URL, never
  check for updates, a read-only extension manager (it lists no PyPI packages), and the project's kernel as the
  default for new notebooks.

Idempotent: it writes the same files every time. A development tool, not part of the installed package."""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

KERNEL = "kuril-research"
DISABLED = ["@jupyterlab/apputils-extension:announcements",  # the "official Jupyter news?" prompt and its feed
            "@jupyterlab/extensionmanager-extension:plugin"]  # the extension manager (queries PyPI)
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}
SERVER = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
               "extension_manager": "readonly"},
    "MultiKernelManager": {"default_kernel_name": KERNEL},
}


def files(prefix:Path) -> dict: # the environment's prefix (`sys.prefix`)
    "The settings files this tool writes under `prefix`, path to content."
    settings = prefix / "share" / "jupyter" / "lab" / "settings"
    return {settings / "page_config.json": {"disabledExtensions": DISABLED},
            settings / "overrides.json": OVERRIDES,
            prefix / "etc" / "jupyter" / "jupyter_server_config.json": SERVER}


def write(prefix:Path) -> list: # the environment's prefix (`sys.prefix`)
    "Write the lab settings under `prefix` (keeping other settings a file holds); the paths that changed."
    changed = []
    for path, content in files(prefix).items():
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        new = {**old, **{k: {**old.get(k, {}), **v} if isinstance(v, dict) else v for k, v in content.items()}}
        text = json.dumps(new, indent=2) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == text: continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(path)
    return changed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefix", type=Path, default=Path(sys.prefix), help="the environment (default: this Python's)")
    a = ap.parse_args(argv)
    for p in write(a.prefix): print(f"lab settings: wrote {p}")
    return 0


if __name__ == "__main__": sys.exit(main())
