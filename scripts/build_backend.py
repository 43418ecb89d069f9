"""PEP 517 build backend of the addon: OCA's ``whool``, given the addon's own name.

``whool`` names the distribution after the directory holding ``__manifest__.py``
(``odoo-addon-<directory>``) and packs every file under git control. A clone of this
repository may sit in a directory of any name, and its development files are not part
of the addon. So the wheel is built from a staging copy named after the addon:

- the files git knows (tracked, or new and not ignored), less ``DEV_PATHS``;
- a ``PKG-INFO`` holding whool's own metadata of the checkout (name from the addon,
  version from the manifest and the git history), which whool then uses as is.
"""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from whool import buildapi as whool

ADDON = "account_payment_followup"
# Development files: the tooling, CI and the pure-Python tests stay out of the addon.
DEV_PATHS = (".ci/", "scripts/", "unit_tests/", ".gitignore", "BENCHMARKS.md")


def _addon_files(addon_dir):
    """Relative paths of the files to package."""
    try:
        out = subprocess.check_output(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=addon_dir
        )
        files = [name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        # not a git checkout (an unpacked sdist, an exported tree): everything
        files = [
            os.path.relpath(os.path.join(root, name), addon_dir)
            for root, _dirs, names in os.walk(addon_dir)
            for name in names
        ]
    return sorted(name for name in files if not name.startswith(DEV_PATHS) and (addon_dir / name).is_file())


@contextmanager
def _staged(addon_dir):
    """A directory named after the addon, holding its files and whool's metadata."""
    addon_dir = Path(addon_dir).absolute()
    with tempfile.TemporaryDirectory() as tmp:
        # whool reads the name from the directory: a link named after the addon
        link = Path(tmp, "link", ADDON)
        link.parent.mkdir()
        link.symlink_to(addon_dir, target_is_directory=True)
        metadata = whool._get_metadata(link)
        stage = Path(tmp, "stage", ADDON)
        for name in _addon_files(addon_dir):
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(addon_dir / name, stage / name)
        whool._write_metadata(stage / "PKG-INFO", metadata)
        yield stage


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _staged(Path.cwd()) as stage:
        return whool._build_wheel(stage, Path(wheel_directory), editable=False)


def build_sdist(sdist_directory, config_settings=None):
    with _staged(Path.cwd()) as stage:
        return whool._build_sdist(stage, Path(sdist_directory))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with _staged(Path.cwd()) as stage:
        return whool._make_dist_info(whool._get_metadata(stage), Path(metadata_directory))
