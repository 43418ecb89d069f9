"""The bootstrap's own logic (scripts/lib/runtime.sh), without Odoo.

Each test runs the library's functions in a bash of its own, with a cache
(XDG_CACHE_HOME) and a PATH of its own: which Odoo is chosen, how runtimes are keyed,
and that a half-finished set-up is redone, never used. The "Odoo" sources are fake
trees whose odoo-bin only answers --version, with an empty requirements.txt.
"""

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "scripts" / "lib" / "runtime.sh"


def fake_odoo_tree(root, version="17.0-20240709"):
    root.mkdir(parents=True)
    (root / "odoo").mkdir()
    (root / "odoo" / "release.py").write_text(f"version = {version!r}\n")
    (root / "requirements.txt").write_text("")
    (root / "odoo-bin").write_text(f'import sys\nprint("Odoo Server {version}")\n')
    return root


def fake_odoo_command(bin_dir, version):
    bin_dir.mkdir(parents=True, exist_ok=True)
    odoo = bin_dir / "odoo"
    odoo.write_text(f"#!/bin/sh\necho 'Odoo Server {version}'\n")
    odoo.chmod(0o755)
    return bin_dir


def tarball(tree, path):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(tree, arcname="odoo-17.0")
    return path


@pytest.fixture
def run(tmp_path):
    """Run a bash snippet after sourcing the library; return (exit code, stdout, stderr)."""
    system_path = "/usr/local/bin:/usr/bin:/bin"

    def _run(snippet, path_prefix=None, **env):
        full_env = {
            "HOME": str(tmp_path / "home"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PATH": f"{path_prefix}:{system_path}" if path_prefix else system_path,
            # no network in these tests: the official source is "unreachable"
            "APF_ODOO_GIT_URL": f"file://{tmp_path}/no-such-repository",
            # system packages are tier 2's business, not these tests'
            "APF_NO_SYSTEM_PACKAGES": "1",
            **env,
        }
        proc = subprocess.run(
            ["/bin/bash", "-c", f'source "{LIB}"; {snippet}'],
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr

    return _run


REPORT = 'rc=$?; echo "rc=$rc"; echo "origin=$APF_ODOO_ORIGIN"; echo "reason=$APF_ODOO_SKIP_REASON"; command -v odoo'


def parse(stdout):
    lines = stdout.splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line)
    values = {key: value for key, value in pairs if key in ("rc", "origin", "reason")}
    values["odoo"] = lines[-1] if lines and not lines[-1].startswith("reason=") else ""
    return values


def test_odoo_17_on_path_is_used_first(tmp_path, run):
    bin_dir = fake_odoo_command(tmp_path / "bin", "17.0-20240709")
    src = tarball(fake_odoo_tree(tmp_path / "tree"), tmp_path / "odoo.tar.gz")
    rc, out, _err = run(f"apf_odoo_runtime; {REPORT}", path_prefix=bin_dir, ODOO_SRC=str(src))
    values = parse(out)
    assert values["rc"] == "0"
    assert values["origin"] == f"odoo on PATH ({bin_dir}/odoo)"
    assert values["odoo"] == f"{bin_dir}/odoo"
    assert not (tmp_path / "cache").exists(), "nothing is built when odoo 17.0 is on PATH"


def test_other_odoo_on_path_gives_way_to_odoo_src(tmp_path, run):
    bin_dir = fake_odoo_command(tmp_path / "bin", "16.0-20231010")
    src = tarball(fake_odoo_tree(tmp_path / "tree"), tmp_path / "odoo.tar.gz")
    rc, out, err = run(f"apf_odoo_runtime; {REPORT}", path_prefix=bin_dir, ODOO_SRC=str(src))
    values = parse(out)
    assert values["rc"] == "0", err
    assert "says 'Odoo Server 16.0-20231010', not 17.0: not used" in err
    runtimes = sorted((tmp_path / "cache" / "account_payment_followup").glob("odoo-17.0-*[!k]"))
    assert len(runtimes) == 1
    assert values["origin"] == f"ODOO_SRC={src} -> {runtimes[0]}"
    assert values["odoo"] == f"{runtimes[0]}/bin/odoo"
    assert (runtimes[0] / ".complete").is_file()


def test_offline_without_odoo_src_says_why_in_one_line(tmp_path, run):
    rc, out, err = run(f"apf_odoo_runtime; {REPORT}")
    values = parse(out)
    assert values["rc"] == "1"
    assert values["reason"] == (
        f"no odoo 17.0 on PATH, no ODOO_SRC, and file://{tmp_path}/no-such-repository cannot be reached: "
        "set ODOO_SRC to an Odoo 17.0 source tree or tarball (.tar.gz/.tar.xz)"
    )
    assert err == ""


def test_odoo_src_that_is_not_odoo_is_refused(tmp_path, run):
    (tmp_path / "empty").mkdir()
    rc, out, err = run(f"apf_odoo_runtime; {REPORT}", ODOO_SRC=str(tmp_path / "empty"))
    assert parse(out)["rc"] == "1"
    assert "holds no Odoo source tree (odoo-bin, requirements.txt, odoo/release.py)" in err


def test_cache_key_follows_the_source(tmp_path, run):
    tree = fake_odoo_tree(tmp_path / "tree")
    first = tarball(tree, tmp_path / "a.tar.gz")
    same = tmp_path / "copy.tar.gz"
    same.write_bytes(first.read_bytes())
    (tree / "requirements.txt").write_text("six\n")
    tarball(tree, tmp_path / "b.tar.gz")
    keys = {}
    for name in ("a.tar.gz", "copy.tar.gz", "b.tar.gz", "tree"):
        rc, out, err = run(f'apf_source_key "{tmp_path / name}"')
        assert rc == 0, err
        keys[name] = out.strip()
        assert len(keys[name]) == 16
    assert keys["a.tar.gz"] == keys["copy.tar.gz"], "the same content is the same runtime"
    assert keys["a.tar.gz"] != keys["b.tar.gz"], "another source is another runtime"
    # a directory: keyed by where it is and what it holds
    assert run(f'apf_source_key "{tree}"')[1].strip() == keys["tree"]
    (tree / "requirements.txt").write_text("")
    assert run(f'apf_source_key "{tree}"')[1].strip() != keys["tree"]


def test_second_run_reuses_the_runtime(tmp_path, run):
    src = tarball(fake_odoo_tree(tmp_path / "tree"), tmp_path / "odoo.tar.gz")
    rc, out, err = run(f'apf_runtime_from_source "{src}"')
    assert rc == 0, err
    runtime = Path(out.strip())
    assert "making Odoo's virtualenv" in err
    venv_inode = os.stat(runtime / "venv").st_ino
    rc, out, err = run(f'apf_runtime_from_source "{src}"')
    assert (rc, out.strip(), err) == (0, str(runtime), "")
    assert os.stat(runtime / "venv").st_ino == venv_inode


@pytest.mark.parametrize("damage", ["no stamp", "broken launcher"])
def test_half_finished_setup_is_redone(tmp_path, run, damage):
    src = tarball(fake_odoo_tree(tmp_path / "tree"), tmp_path / "odoo.tar.gz")
    rc, out, err = run(f'apf_runtime_from_source "{src}"')
    assert rc == 0, err
    runtime = Path(out.strip())
    if damage == "no stamp":
        # killed after the venv, before the stamp: what is there must not be used
        (runtime / ".complete").unlink()
    else:
        (runtime / "bin" / "odoo").write_text("#!/bin/sh\nexit 1\n")
    rc, out, err = run(f'apf_runtime_from_source "{src}"')
    assert rc == 0, err
    assert out.strip() == str(runtime)
    assert f"{runtime} is an unfinished set-up: doing it again" in err
    assert run(f'apf_runtime_ready "{runtime}" && echo ready')[1].strip() == "ready"


def test_source_directory_is_used_in_place(tmp_path, run):
    tree = fake_odoo_tree(tmp_path / "tree")
    rc, out, err = run(f'apf_runtime_from_source "{tree}"')
    assert rc == 0, err
    runtime = Path(out.strip())
    assert (runtime / "odoo").resolve() == tree.resolve()
    assert not (runtime / "src").exists(), "a source tree is not copied"
    launcher = (runtime / "bin" / "odoo").read_text()
    assert f'"{tree.resolve()}/odoo-bin"' in launcher


def test_missing_system_packages_without_root_print_the_apt_line(run):
    # not root, and nothing on PATH: no PostgreSQL, wkhtmltopdf, compiler nor venv module
    rc, out, err = run(
        "apf_is_root() { return 1; }; apf_system_packages build",
        PATH="/nonexistent",
        APF_NO_SYSTEM_PACKAGES="",
        PG_BINDIR="/nonexistent",
        APF_PYTHON="/nonexistent/python3",
    )
    assert rc == 1, err
    lines = out.splitlines()
    assert lines[0] == "missing system packages; install them, then run again:"
    assert lines[1].startswith("  sudo apt-get install -y --no-install-recommends postgresql wkhtmltopdf ")
    assert lines[1].split()[-2:] == ["gcc", "python3-venv"]


def test_nothing_missing_installs_nothing(tmp_path, run):
    bin_dir = tmp_path / "bin"
    for tool in ("wkhtmltopdf", "cc", "pg_config"):
        fake_odoo_command(bin_dir, "x")
        (bin_dir / "odoo").rename(bin_dir / tool)
    pg = tmp_path / "pg"
    for tool in ("initdb", "pg_ctl", "postgres"):
        fake_odoo_command(pg, "x")
        (pg / "odoo").rename(pg / tool)
    rc, out, err = run(
        "apf_is_root() { echo 'asked for root'; return 0; }; apf_missing_packages; apf_system_packages",
        path_prefix=bin_dir,
        APF_NO_SYSTEM_PACKAGES="",
        PG_BINDIR=str(pg),
    )
    assert (rc, out, err) == (0, "", "")
