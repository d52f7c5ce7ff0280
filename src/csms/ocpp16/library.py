"""The ``ocpp`` library's OCPP 1.6 enums, importable without the library's ``ChargePoint``.

``import ocpp.v16.enums`` normally runs ``ocpp/v16/__init__.py`` first, which imports the
library's ``ChargePoint`` and with it asyncio, jsonschema and every call/call_result
dataclass: about 200 ms of a Lambda cold start, for a stateless adapter that uses only the
enums and the schema files. :func:`preload_enums` (run by ``csms.ocpp16``'s ``__init__``)
executes the library's own ``ocpp/v16/enums.py`` and registers it under its real name, so
``from ocpp.v16.enums import Action`` anywhere afterwards is a dictionary lookup, and the
package still imports normally when something asks for ``ocpp.v16`` itself (the simulated
chargers in the tests do): its modules then share this very ``enums`` module.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import ocpp  # its __init__ is empty

V16_DIR = Path(ocpp.__file__).parent / "v16"
_NAME = "ocpp.v16.enums"


def preload_enums() -> ModuleType:
    """``ocpp.v16.enums``, executed on its own unless the package is already imported."""
    loaded = sys.modules.get(_NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(_NAME, V16_DIR / "enums.py")
    if spec is None or spec.loader is None:  # pragma: no cover (a broken install)
        raise ImportError(f"cannot load {_NAME} from {V16_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_NAME]
        raise
    return module
