"""Framework sources uploaded on the frameworks page: what each kind accepts, where the files wait
for the worker, and how they are laid out for the importers (which read a file or a folder, as
``import_framework`` does from the command line).

The files wait in the default storage (``MEDIA_ROOT``) under ``framework-imports/<token>/``, with
their uploaded names (the importers take the version label and the checksum from names and
content). The worker copies them into a scratch folder of its own, so the web server and the
worker need not share a disk path, only the storage.
"""

from __future__ import annotations

import secrets
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from django.core.files.storage import default_storage

from matching.importers.base import FrameworkImportError
from matching.importers.onet import OCCUPATIONS, TASKS

UPLOAD_DIR = "framework-imports"

#: What each kind takes, in the words the upload form shows.
ACCEPTS = {
    "ifate": "one .json file, as the Skills England API returns it or as the 2020 extract",
    "onet": f"the text release as its .zip, or its .txt files (at least “{OCCUPATIONS}” and “{TASKS}”)",
    "esco": "the official CSV .zip files: the classification, and the relations for occupations' skills",
}
# An O*NET release unpacks to about 60 MB of text: a zip that claims far more is not one.
MAX_UNPACKED_BYTES = 1024**3


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def file_name(uploaded: str) -> str:
    """The name an uploaded file is kept under: its last path part, spaces kept (O*NET's files are
    named "Occupation Data.txt")."""
    name = PurePosixPath(uploaded.replace("\\", "/")).name.strip()
    return name if name not in ("", ".", "..") else "upload"


def check(kind: str, names: list[str]) -> str | None:
    """Why files of these ``names`` cannot be a source of ``kind`` (a sentence), or None."""
    names = [file_name(n) for n in names]
    suffixes = [_suffix(n) for n in names]
    if not names:
        return "Choose the files to import."
    if len(set(names)) != len(names):
        return "The same file name is there twice: choose each file once."
    if kind == "ifate":
        if suffixes != [".json"]:
            return f"Skills England (IfATE) standards come as {ACCEPTS['ifate']}; got {', '.join(names)}."
    elif kind == "onet":
        if suffixes == [".zip"]:
            return None
        if any(s != ".txt" for s in suffixes):
            return f"O*NET comes as {ACCEPTS['onet']}; got {', '.join(names)}."
        missing = [required for required in (OCCUPATIONS, TASKS) if required not in names]
        if missing:
            return f"The O*NET files must include {' and '.join(f'“{m}”' for m in missing)}."
    elif kind == "esco":
        if any(s != ".zip" for s in suffixes):
            return f"ESCO comes as {ACCEPTS['esco']}; got {', '.join(names)}."
    else:
        return f"Unknown framework {kind!r}."
    return None


def store(files) -> list[dict[str, str]]:
    """Save uploaded files side by side in a folder of their own; returns ``[{"name", "path"}]``."""
    folder = f"{UPLOAD_DIR}/{secrets.token_hex(8)}"
    stored = []
    for upload in files:
        name = file_name(upload.name)
        path = default_storage.save(f"{folder}/{name}", upload)
        stored.append({"name": name, "path": path})
    return stored


def discard(stored: list[dict[str, str]]) -> None:
    for entry in stored:
        if default_storage.exists(entry["path"]):
            default_storage.delete(entry["path"])


def available(stored: list[dict[str, str]]) -> bool:
    """Whether every stored file is still there (so the import can be started again)."""
    return bool(stored) and all(default_storage.exists(entry["path"]) for entry in stored)


def source(kind: str, stored: list[dict[str, str]], scratch: Path) -> str:
    """Copy the stored files into ``scratch`` and return what the importer of ``kind`` reads: the
    IfATE file, the O*NET folder (a zip unpacked into it), or the folder of ESCO zips."""
    folder = scratch / "source"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for entry in stored:
        if not default_storage.exists(entry["path"]):
            raise FrameworkImportError(f"{entry['name']}: the uploaded file is no longer stored; upload it again.")
        target = folder / entry["name"]
        with default_storage.open(entry["path"], "rb") as fh, target.open("wb") as out:
            shutil.copyfileobj(fh, out)
        paths.append(target)
    if kind == "ifate":
        return str(paths[0])
    if kind == "onet" and len(paths) == 1 and paths[0].suffix.lower() == ".zip":
        return str(_unpack_onet(paths[0], scratch / paths[0].stem))
    return str(folder)


def _unpack_onet(archive: Path, folder: Path) -> Path:
    """The release's text files, flattened into ``folder`` (the official zip holds them in a folder
    of its own); other members and any path inside a member's name are ignored."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if not m.is_dir() and _suffix(m.filename) == ".txt"]
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise FrameworkImportError(f"{archive.name}: unpacks to more than 1 GB; that is not an O*NET release.")
            folder.mkdir(parents=True, exist_ok=True)
            for member in members:
                name = PurePosixPath(member.filename).name
                with z.open(member) as fh, (folder / name).open("wb") as out:
                    shutil.copyfileobj(fh, out)
    except zipfile.BadZipFile as exc:
        raise FrameworkImportError(f"{archive.name}: not a readable zip file ({exc}).") from exc
    return folder
