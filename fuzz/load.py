"""``make fuzz``: a coverage-guided campaign against ``nnmath.load`` (atheris, libFuzzer).

The property is the one tests/test_io_fuzz.py checks in CI with a seeded mutator, run
for as long as asked: any bytes either load as a consistent model or raise
``nnmath.ModelFileError`` with a short message; anything else (another exception, a
model that predicts nonsense) is a crash that libFuzzer saves to a file and reports.
libFuzzer's own limits bound each input's time (``-timeout``) and memory
(``-rss_limit_mb``).

The seeds are one file of every model kind (conftest.save_every_model_kind), with and
without its checksums. The corpus the campaign grows is kept in .fuzz-corpus/ (not
tracked), so that the next campaign goes on from it; an input that fails is saved in
.fuzz-corpus/crashes/. ``python fuzz/load.py -help=1`` lists libFuzzer's options;
``make fuzz`` runs for FUZZ_SECONDS (600 unless set).
"""

from __future__ import annotations

import json
import struct
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

with atheris.instrument_imports(include=["nnmath"]):
    import nnmath
    from nnmath.document import MAX_MESSAGE_CHARS

from conftest import check_consistent, save_every_model_kind  # noqa: E402

WORK = Path(tempfile.mkdtemp(prefix="nnmath-fuzz-"))
PATH = WORK / "input.safetensors"


def test_one_input(data: bytes) -> None:
    PATH.write_bytes(data)
    try:
        model = nnmath.load(PATH)
    except nnmath.ModelFileError as exc:
        message = str(exc)
        if len(message) > MAX_MESSAGE_CHARS + len(str(PATH)) + 20:
            raise AssertionError(f"a message of {len(message)} characters") from None
        return
    check_consistent(model)


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
    for kind, path in save_every_model_kind(seeds).items():
        (seeds / f"{kind}-unchecked.safetensors").write_bytes(without_checksums(path.read_bytes()))
    corpus = ROOT / ".fuzz-corpus"
    crashes = corpus / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-artifact_prefix={crashes}/", *sys.argv[1:], str(corpus), str(seeds)]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
