"""``make fuzz``: a coverage-guided campaign against ``nnmath.load`` (atheris, libFuzzer).

The property is the one tests/test_io_fuzz.py checks in CI with a seeded mutator, run
for as long as asked: any bytes either load as a consistent model or raise
``nnmath.ModelFileError`` with a short message; anything else (another exception, a
model that predicts nonsense) is a crash that libFuzzer saves to a file and reports.
Each input is tried twice: as it is, and forged — its document's checksum recomputed,
as anyone who edits a file can — so that mutations reach every check of what
prediction does with each value. A model loaded from a forged input or from one
without checksums must also predict finite values of the right shape on a fixed input.
libFuzzer's own limits bound each input's time (``-timeout``) and memory
(``-rss_limit_mb``).

The seeds are one file of every model kind (conftest.save_every_model_kind) and a
command's model with a date column, with and without their checksums. The corpus the
campaign grows is kept in .fuzz-corpus/ (not
tracked), so that the next campaign goes on from it; an input that fails is saved in
.fuzz-corpus/crashes/. ``python fuzz/load.py -help=1`` lists libFuzzer's options;
``make fuzz`` runs for FUZZ_SECONDS (600 unless set).
"""

from __future__ import annotations

import json
import struct
import sys
import tempfile
import warnings
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

with atheris.instrument_imports(include=["nnmath"]):
    import nnmath
    from nnmath.document import MAX_MESSAGE_CHARS
    from nnmath.io.container import CHECKSUM_KEYS, document_digest

from conftest import check_consistent, save_every_model_kind  # noqa: E402
from test_io_fuzz import _dated_pipeline, check_predicts  # noqa: E402

WORK = Path(tempfile.mkdtemp(prefix="nnmath-fuzz-"))
PATH = WORK / "input.safetensors"


def test_one_input(data: bytes) -> None:
    check_load(data, forged=False)
    document_forged = forge(data)
    if document_forged is not None:
        check_load(document_forged, forged=True)


def check_load(data: bytes, forged: bool) -> None:
    """Load ``data`` and check the outcome.

    A ModelFileError with a short message, or a consistent model (one that predicts, if
    its checksums were forged or absent).
    """
    PATH.write_bytes(data)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nnmath.io.NoChecksumWarning)
            model = nnmath.load(PATH)
    except nnmath.ModelFileError as exc:
        message = str(exc)
        if len(message) > MAX_MESSAGE_CHARS + len(str(PATH)) + 20:
            raise AssertionError(f"a message of {len(message)} characters") from None
        return
    check_consistent(model)
    if forged or caught:
        check_predicts(model)


def forge(data: bytes) -> bytes | None:
    """Return the bytes with the document's checksum recomputed.

    As anyone who edits a file can; None when they hold no model document to recompute
    it for.
    """
    try:
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n])
        metadata = header["__metadata__"]
        text = metadata["nnmath"]
        metadata[CHECKSUM_KEYS[0]] = document_digest(text)
        raw = json.dumps(header).encode("utf-8", "surrogatepass")
    except Exception:  # not a header that can be forged: the input as it is was tried
        return None
    return struct.pack("<Q", len(raw)) + raw + data[8 + n :]


def without_checksums(data: bytes) -> bytes:
    """Rewrite a model file as written before checksums existed.

    Mutations of it reach the checks behind the checksums, which mutations of a
    checksummed file rarely pass.
    """
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = {"nnmath": header["__metadata__"]["nnmath"]}
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data[8 + n :]


def main() -> None:
    seeds = WORK / "seeds"
    seeds.mkdir()
    paths = save_every_model_kind(seeds)
    paths["pipeline-dates"] = _dated_pipeline(seeds)
    for kind, path in paths.items():
        (seeds / f"{kind}-unchecked.safetensors").write_bytes(without_checksums(path.read_bytes()))
    corpus = ROOT / ".fuzz-corpus"
    crashes = corpus / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-artifact_prefix={crashes}/", *sys.argv[1:], str(corpus), str(seeds)]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
