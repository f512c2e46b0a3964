"""The runtime module of the generated revisions: planner writes migration_runtime.py once
into the migrations folder as planner_runtime_v<VERSION>.py, and each revision loads it
from there (revisions import only alembic and sqlalchemy, never planner).

Versioned: the text of a version never changes once released (DIGEST pins it; a test
checks it). Helpers that change get a new VERSION, written beside the older files, so
the revisions that load an older version keep working."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from planner.errors import PlannerError

VERSION = 1
FILENAME = f"planner_runtime_v{VERSION}.py"
#: the module's text, exactly as written into the migrations folder
RUNTIME = (Path(__file__).parent / "migration_runtime.py").read_text(encoding="utf-8")
#: sha256 of RUNTIME for VERSION: a change to the helpers needs a new VERSION
DIGEST = "0681152d753fbce940d9460b32b22d154e2529b459d268806d71b59bd2df1010"


def constant(name: str) -> str:
    """A constant of the runtime module (what every revision actually uses), as written."""
    m = re.search(rf"^{name} = (.+?)(?:\s+#.*)?$", RUNTIME, re.M)
    if m is None:
        raise PlannerError(f"internal error: the revision runtime has no {name}")
    return m.group(1).strip().strip('"')


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_runtime(script_dir: str | Path) -> Path | None:
    """Write the runtime module into the migrations folder `script_dir` (where env.py is);
    the path when it was written now, None when an identical one is there already. A file
    of that name with other text (edited by hand) is an error, never overwritten."""
    path = Path(script_dir) / FILENAME
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise PlannerError(f"{path}: cannot read planner's runtime module ({e})") from None
        if text == RUNTIME:
            return None
        raise PlannerError(f"{path}: planner's runtime module was modified (the revisions that load it "
                           "expect planner's text); nothing was written",
                           hint=f"restore it (git checkout {FILENAME}) or delete it to have planner write it again")
    path.write_text(RUNTIME, encoding="utf-8")
    return path
