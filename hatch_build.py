"""hatchling build hook: compiles ``bridge/_ccodec.pyx`` (the compiled codec's C loops) in place.

It needs lxml's headers, whose directory is only known at build time (``lxml.get_include()``).
A failed compile is not fatal: the package still works on the pure-Python loops (``soapbridge
--version`` then says ``C loops: no``), and ``tests/test_compiled.py`` fails under CI when the
extension is missing. At the repository root, hatchling's default hook path, so it stays out of
the wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CDecodeBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name not in ("wheel", "editable"):
            return
        root = Path(self.root)
        try:
            built = _compile(root)
        except Exception as exc:  # no compiler, no headers: the pure-Python loops stand in
            print(f"soapbridge: bridge/_ccodec not built ({exc}); using the pure-Python codec loops", file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":  # an editable install imports the module from the source tree
            build_data["force_include"][str(built)] = str(built.relative_to(root))


def _compile(root: Path) -> Path:
    import lxml
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    ext = Extension("bridge._ccodec", [str(root / "bridge" / "_ccodec.pyx")], include_dirs=lxml.get_include())
    dist = Distribution({"ext_modules": cythonize([ext], quiet=True, language_level=3), "script_name": "build"})
    cmd = dist.get_command_obj("build_ext")
    cmd.inplace = True  # type: ignore[attr-defined]
    cmd.build_temp = str(root / "build" / "ccodec")  # type: ignore[attr-defined]
    cmd.ensure_finalized()
    cmd.run()
    out = Path(cmd.get_ext_fullpath("bridge._ccodec"))  # type: ignore[attr-defined]
    return out if out.is_absolute() else root / out
