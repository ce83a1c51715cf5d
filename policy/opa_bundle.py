"""A rule pack as an OPA bundle: `.manifest` with the pack's revision, the Rego and the data.

The archive is byte-for-byte reproducible (sorted members, zero timestamps), so the same pack
always gives the same bytes and sidecars polling with an ETag download it only when it changes.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from policy.rule_pack import DATA_ROOT, RulePack

BUNDLE_NAME = "sluicegate"


def bundle_files(pack: RulePack, *, include_tests: bool = False) -> dict[str, bytes]:
    """The bundle's files by path: the manifest, `data.json` and the Rego modules.

    Every package and data document lives under the one root `sluicegate`, which the manifest
    claims, so OPA rejects anything else that tries to write there. Python rules are not part of
    a bundle: they run in the gateway.
    """
    manifest = {"revision": pack.revision, "roots": [DATA_ROOT], "rego_version": 1}
    files = {
        ".manifest": json.dumps(manifest, sort_keys=True).encode(),
        "data.json": json.dumps(pack.raw_data, sort_keys=True).encode(),
    }
    modules = {**pack.rego_modules, **(pack.rego_tests if include_tests else {})}
    for name, source in sorted(modules.items()):
        files[f"rego/{name}"] = source.encode()
    return files


def bundle_archive(pack: RulePack) -> bytes:
    """The bundle as OPA downloads it: a gzipped tarball, the same bytes for the same pack."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(bundle_files(pack).items()):
            member = tarfile.TarInfo(f"/{name}")
            member.size = len(content)
            member.mode = 0o644
            tar.addfile(member, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_bundle_dir(pack: RulePack, target: Path, *, include_tests: bool = False) -> Path:
    """Write the bundle as a directory (what `opa test -b` and `opa run -b` read)."""
    for name, content in bundle_files(pack, include_tests=include_tests).items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target
