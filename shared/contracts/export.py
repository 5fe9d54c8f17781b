"""Export every message's JSON Schema to shared/contracts/schemas/<type>.json.

    python -m shared.contracts.export

The committed files are the published contracts; tests/unit/test_contracts.py fails when the code
changes one incompatibly (a field removed or retyped, a new required field). A breaking change is
a new versioned type (`...v2`), exported beside the old one.
"""
import json
from pathlib import Path

import shared.contracts  # noqa: F401  (registers every type)
from shared.contracts.base import json_schemas

SCHEMAS = Path(__file__).parent / "schemas"


def main() -> None:
    SCHEMAS.mkdir(exist_ok=True)
    for type_, schema in json_schemas().items():
        (SCHEMAS / f"{type_}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    print(f"exported {len(json_schemas())} schemas to {SCHEMAS}")


if __name__ == "__main__":
    main()
